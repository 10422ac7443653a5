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

The bodies a process receives at once are bounded too (`BodyBudget`): each request with a body
takes its size (declared, or its operation's limit when chunked; at most `WHOLE_BODY_BYTES` for
a wheel, which larger is streamed to a file) from `PYOCO_HTTP_BODIES_MAX_BYTES` until its answer
is sent, and one that does not fit is answered 503 `gateway_busy` (Retry-After 1) before any of
its body is read. Before, nothing bounded the sum: 800 connections each sending all but the last
byte of a 500 KB submit took the gateway from 77 to 475 MiB, never given back, and the descriptor
limit (20,000 here) allowed 25 times that.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pyoco_server.domain.errors import GatewayBusy, PayloadTooLarge
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway._connexion import matched_operation_id
from pyoco_server.gateway._formparse import WHOLE_BODY_BYTES
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


class BodyBudget:
    """The bytes of request bodies a gateway process may hold at once (the module docstring)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.held = 0

    def take(self, size: int) -> None:
        """Hold `size` bytes more; `GatewayBusy` if they do not fit (a lone body always does)."""
        if self.held and self.held + size > self.max_bytes:
            raise GatewayBusy(self.held, self.max_bytes)
        self.held += size

    def give_back(self, size: int) -> None:
        """Hold `size` bytes less."""
        self.held -= size


class BodyLimitMiddleware:
    """ASGI middleware enforcing `body_limits` and the `BodyBudget` (the module docstring)."""

    def __init__(
        self, app: ASGIApp, *, limits: Mapping[str, tuple[int, str]], budget: BodyBudget
    ) -> None:
        self.app = app
        self._limits = limits
        self._budget = budget

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse or count the body of an HTTP request, holding its size from the budget."""
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
        chunked = declared is None and header(scope, b"transfer-encoding") is not None
        held = limit if chunked else declared or 0
        if operation == "upload_wheel":
            held = min(held, WHOLE_BODY_BYTES)  # larger ones are streamed to a file
        if not held:
            await self.app(scope, _counting(receive, limit, setting), send)
            return
        self._budget.take(held)
        try:
            counted = _counting(receive, limit, setting)
            if chunked:
                messages = await _read_all(counted)
                size = sum(len(message.get("body", b"")) for message in messages)
                scope = _with_length(scope, size)
                counted = _replaying(messages, receive)
            await self.app(scope, counted, send)
        finally:
            self._budget.give_back(held)


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
