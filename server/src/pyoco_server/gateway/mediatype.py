"""A request's media type read without regard to case, as HTTP defines it (RFC 9110, 8.3.1).

Connexion matches a request's media type against the spec's (`MediaTypeDict`, `fnmatch`) with
case: `Content-Type: Application/JSON` found no body schema and no validator, so the body went
unvalidated to the handler, which failed with a 500. `MediaTypeCase` lowercases the type and
subtype of the request's Content-Type before any other layer reads it. Its parameters are left
as they are: a multipart boundary is case-sensitive.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

_CONTENT_TYPE = b"content-type"


class MediaTypeCase:
    """ASGI middleware lowercasing the media type of a request's Content-Type (see above)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, its Content-Type's media type in lower case."""
        if scope["type"] == "http":
            headers = scope.get("headers") or []
            if any(name == _CONTENT_TYPE and _has_upper(value) for name, value in headers):
                scope = {**scope, "headers": [_lowered(name, value) for name, value in headers]}
        await self.app(scope, receive, send)


def _has_upper(value: bytes) -> bool:
    media_type = value.split(b";", 1)[0]
    return media_type != media_type.lower()


def _lowered(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    if name != _CONTENT_TYPE:
        return name, value
    media_type, semicolon, parameters = value.partition(b";")
    return name, media_type.lower() + semicolon + parameters
