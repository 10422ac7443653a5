"""Request bodies bounded before they are read: by Content-Length, then by counting.

Each operation has a limit (`body_limits`): a request that declares more is refused at once with
413; one without a length, or lying about it, is counted as it is received and cut off with 413
as soon as it passes the limit, so no oversized body is buffered in memory or written to disk.
The layer sits right after Connexion's routing, which says which operation a request is for.

A chunked body (no Content-Length) is read here, up to the limit, and handed on with its length:
Connexion's validators take a request without Content-Length for one without a body ("RequestBody
is required"). A 413 closes the connection (`problems.py`), so the client cannot go on sending.

Inside a multipart body, each field other than the file is limited to `form_field_limit` (the
request validator, `_validators.LimitedMultiPartValidator`, applies it while parsing).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pyoco_server.domain.errors import PayloadTooLarge
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway._connexion import matched_operation_id
from pyoco_server.gateway._headers import header

_SMALL = 64 * 1024
"""Bodies of operations that take only a few fields."""
_MULTIPART_OVERHEAD = 64 * 1024
"""Room for the other form fields and the part headers of an upload."""


def form_field_limit(settings: Settings) -> tuple[int, str]:
    """The size limit of a multipart field that is not a file, and the setting behind it."""
    return 2 * settings.max_run_snapshot_bytes + _SMALL, "PYOCO_MAX_RUN_SNAPSHOT_BYTES"


def body_limits(settings: Settings) -> dict[str, tuple[int, str]]:
    """The body limit of each operation that takes a big body, and the setting behind it.

    Other operations get `_SMALL`.
    """
    return {
        "submit_run": (
            2 * settings.max_run_snapshot_bytes + _SMALL,
            "PYOCO_MAX_RUN_SNAPSHOT_BYTES",
        ),
        "rerun_run": (  # params merged over the original's
            2 * settings.max_run_snapshot_bytes + _SMALL,
            "PYOCO_MAX_RUN_SNAPSHOT_BYTES",
        ),
        "submit_run_yaml": (
            2 * settings.max_run_snapshot_bytes
            + settings.workflow_yaml_max_bytes
            + _MULTIPART_OVERHEAD,
            "PYOCO_WORKFLOW_YAML_MAX_BYTES or PYOCO_MAX_RUN_SNAPSHOT_BYTES",
        ),
        "upload_wheel": (
            settings.wheel_max_bytes + _MULTIPART_OVERHEAD,
            "PYOCO_WHEEL_MAX_BYTES",
        ),
    }


class BodyLimitMiddleware:
    """ASGI middleware enforcing `body_limits` (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, limits: Mapping[str, tuple[int, str]]) -> None:
        self.app = app
        self._limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse or count the body of an HTTP request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            operation = matched_operation_id(scope)
        except LookupError:
            operation = None
        limit, setting = self._limits.get(operation or "", (_SMALL, None))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            raise PayloadTooLarge("the request body", declared, limit, setting)
        counted = _counting(receive, limit, setting)
        if declared is None and header(scope, b"transfer-encoding") is not None:
            messages = await _read_all(counted)
            size = sum(len(message.get("body", b"")) for message in messages)
            scope = _with_length(scope, size)
            counted = _replaying(messages, receive)
        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    value = header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


async def _read_all(receive: Receive) -> list[Message]:
    """The messages of the whole body (`receive` counts them against the limit)."""
    messages = [await receive()]
    while messages[-1]["type"] == "http.request" and messages[-1].get("more_body", False):
        messages.append(await receive())
    return messages


def _with_length(scope: Scope, size: int) -> Scope:
    headers = [(key, value) for key, value in scope["headers"] if key != b"transfer-encoding"]
    return {**scope, "headers": [*headers, (b"content-length", str(size).encode())]}


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """`messages` first, then whatever `receive` gives (a disconnect)."""
    waiting = iter(messages)

    async def replayed() -> Message:
        return next(waiting, None) or await receive()

    return replayed


def _counting(receive: Receive, limit: int, setting: str | None) -> Receive:
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise PayloadTooLarge("the request body", None, limit, setting)
        return message

    return counted
