"""Request bodies bounded before they are read: by Content-Length, then by counting.

Each operation has a limit (`body_limits`): a request that declares more is refused at once with
413; one without a length, or lying about it, is counted as it is received and cut off with 413
as soon as it passes the limit, so no oversized body is buffered in memory or written to disk.
The layer sits right after Connexion's routing, which says which operation a request is for.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pyoco_server.domain.errors import PayloadTooLarge
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway._connexion import matched_operation_id

_SMALL = 64 * 1024
"""Bodies of operations that take only a few fields."""
_MULTIPART_OVERHEAD = 64 * 1024
"""Room for the other form fields and the part headers of an upload."""


def body_limits(settings: Settings) -> dict[str, tuple[int, str]]:
    """The body limit of each operation that takes a big body, and the setting behind it.

    Other operations get `_SMALL`.
    """
    return {
        "submit_run": (
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
        await self.app(scope, _counting(receive, limit, setting), send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _counting(receive: Receive, limit: int, setting: str | None) -> Receive:
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise PayloadTooLarge("the request body", received, limit, setting)
        return message

    return counted
