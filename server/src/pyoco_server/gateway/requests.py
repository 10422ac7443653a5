"""Request ids: every HTTP request gets one, every log line written for it carries it.

The id is the client's `X-Request-ID` when that is 1 to 128 printable ASCII characters, else a
new one (32 hex digits). It is returned in the `X-Request-ID` response header, error responses
included, and held in `pyoco_server.logs`' context variable while the request is handled, where
the log filter finds it.
"""

from __future__ import annotations

import os
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pyoco_server.logs import request_context

HEADER = b"x-request-id"
_VALID = re.compile(rb"[\x20-\x7e]{1,128}")


def request_id_of(scope: Scope) -> str:
    """The client's request id when it is acceptable, else a new one."""
    for name, value in scope.get("headers", ()):
        if name.lower() == HEADER:
            if _VALID.fullmatch(value):
                return str(value.decode("ascii"))
            break
    return os.urandom(16).hex()  # 128 random bits, at a quarter of uuid4().hex's cost


class RequestIdMiddleware:
    """ASGI middleware giving each HTTP request an id (outermost, so every response has one)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with its id bound for logging and echoed in the response."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        header = (HEADER, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [item for item in message.get("headers", ()) if item[0].lower() != HEADER]
                message = {**message, "headers": [*kept, header]}
            await send(message)

        with request_context(request_id):
            await self._app(scope, receive, send_with_id)
