"""Where the gateway keeps the caller of the current request.

The API-key middleware (gateway/auth.py) puts the `Principal` in the ASGI scope; handlers read
it with `current_principal()`. With API keys off there is none.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from connexion import request

from pyoco_server.tenancy import Principal

SCOPE_KEY = "pyoco.principal"


def set_principal(scope: MutableMapping[str, Any], principal: Principal) -> None:
    """Record the caller in an ASGI scope (called by the API-key middleware)."""
    scope[SCOPE_KEY] = principal


def current_principal() -> Principal | None:
    """The caller of the request being handled, or None with API keys off."""
    principal = request.scope.get(SCOPE_KEY)
    return principal if isinstance(principal, Principal) else None


def current_tenant() -> str | None:
    """The caller's tenant, or None with API keys off (no tenant filtering)."""
    principal = current_principal()
    return principal.tenant_id if principal else None
