"""A request's headers read from its ASGI scope, without building Starlette's `Headers`."""

from __future__ import annotations

from starlette.types import Scope


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of header `name` (in lower case, as ASGI servers give names), or None."""
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value)
    return None
