"""Who may call what: the API-key middleware, and the caller of the request being handled.

The middleware takes the place of Connexion's security layer.

It sits right after Connexion's routing middleware, which records the matched operation in the
scope, and decides from the served spec: an operation whose `security` is not empty needs a key
(all but /health), and one marked `x-pyoco-role: admin` needs an admin key. A request that
matches no operation passes untouched, so Connexion still answers 404 and 405.

Keys are checked against an in-memory copy of the `pyoco_auth` bucket (`ApiKeyLookup`), so a
request costs one HMAC and no NATS round trip. Refusals are problem documents:

| outcome | status | reason |
|---|---|---|
| no key header | 401 | `api_key_required` |
| malformed, unknown, revoked key or wrong secret | 403 | `api_key_invalid` |
| a valid key without the operation's role | 403 | `forbidden_role` |
| the keys have not been loaded from NATS yet | 503 | `backend_unavailable` |
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from pyoco_server.domain import keys
from pyoco_server.domain.codec import dumps
from pyoco_server.domain.errors import ForbiddenTenant
from pyoco_server.domain.keys import Principal
from pyoco_server.domain.records import Role
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway._connexion import current_scope, matched_operation_id
from pyoco_server.ports import ApiKeyLookup

PROBLEM_JSON = "application/problem+json"
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_RETRY_AFTER_SEC = 2


@dataclasses.dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request may not go on, as the problem response it gets."""

    status: int
    title: str
    detail: str
    reason: str
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def document(self) -> bytes:
        """The problem document, as JSON."""
        return dumps(
            {
                "type": "about:blank",
                "title": self.title,
                "status": self.status,
                "detail": self.detail,
                "reason": self.reason,
            }
        )

    def response(self) -> Response:
        """The `application/problem+json` response."""
        return Response(
            self.document(), self.status, headers=dict(self.headers), media_type=PROBLEM_JSON
        )


def required_roles(spec: Mapping[str, Any]) -> dict[str, Role]:
    """The role each operation of `spec` needs, by operationId; operations needing no key left out.

    An operation needs a key when its `security` (or the spec's, when it has none) is not empty
    and offers no empty alternative; it needs an admin key when marked `x-pyoco-role: admin`.
    """
    default_security = spec.get("security") or []
    roles: dict[str, Role] = {}
    for path_item in spec["paths"].values():
        for method, operation in path_item.items():
            if method not in _METHODS or "operationId" not in operation:
                continue
            security = operation.get("security", default_security)
            if security and all(security):
                admin = operation.get("x-pyoco-role") == "admin"
                roles[operation["operationId"]] = Role.ADMIN if admin else Role.USER
    return roles


class ApiKeyGate:
    """Decides whether a request's key may use an operation (no ASGI here, for unit tests)."""

    def __init__(self, lookup: ApiKeyLookup, header: str, pepper: str) -> None:
        self._keys = lookup
        self._header = header
        self._header_bytes = header.lower().encode("latin-1")
        self._pepper = pepper

    def presented_key(self, scope: Scope) -> str | None:
        """The value of the key header, or None when it is missing or empty."""
        for name, value in scope.get("headers") or ():
            if name == self._header_bytes:
                return value.decode("latin-1").strip() or None
        return None

    def check(self, presented: str | None, required: Role) -> Principal | Refusal:
        """The caller behind `presented` when it may use an operation needing `required`."""
        if presented is None:
            return self._missing()
        parsed = keys.parse(presented)
        if parsed is None:
            return _invalid()
        if not self._keys.loaded:
            return _loading()
        record = self._keys.get(parsed[0])
        if record is None or not keys.verify(record, parsed[1], self._pepper):
            return _invalid()
        principal = keys.principal(record)
        if not principal.may(required):
            return Refusal(403, "Forbidden", "this operation needs an admin key", "forbidden_role")
        return principal

    def _missing(self) -> Refusal:
        return Refusal(
            401,
            "Unauthorized",
            f"API key required: send it in header {self._header} "
            "(create one with pyoco-server-admin api-key create)",
            "api_key_required",
        )


def _invalid() -> Refusal:
    return Refusal(403, "Forbidden", "API key not valid or revoked", "api_key_invalid")


def _loading() -> Refusal:
    return Refusal(
        503,
        "Service Unavailable",
        "the gateway has not loaded the API keys from NATS yet; retry shortly",
        "backend_unavailable",
        {"Retry-After": str(_RETRY_AFTER_SEC)},
    )


class ApiKeyMiddleware:
    """ASGI middleware: lets a request through with its `Principal`, or answers the refusal."""

    def __init__(self, app: ASGIApp, *, gate: ApiKeyGate, roles: Mapping[str, Role]) -> None:
        self.app = app
        self._gate = gate
        self._roles = roles

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the key of an HTTP request to an operation that needs one."""
        required = self._required_role(scope) if scope["type"] == "http" else None
        if required is None:
            await self.app(scope, receive, send)
            return
        outcome = self._gate.check(self._gate.presented_key(scope), required)
        if isinstance(outcome, Refusal):
            await outcome.response()(scope, receive, send)
            return
        set_principal(scope, outcome)
        await self.app(scope, receive, send)

    def _required_role(self, scope: Scope) -> Role | None:
        """The role the matched operation needs; None for no operation or one open to all."""
        try:
            operation_id = matched_operation_id(scope)
        except LookupError:
            # Not routed by Connexion (the layers are in the wrong order): fail closed.
            return Role.ADMIN
        return self._roles.get(operation_id) if operation_id else None


def api_key_layer(
    lookup: ApiKeyLookup, spec: Mapping[str, Any], settings: Settings
) -> Callable[[ASGIApp], ApiKeyMiddleware]:
    """The middleware as Connexion builds its layers (`layer(app)`), for the served `spec`."""
    gate = ApiKeyGate(lookup, settings.http_api_key_header, settings.auth_pepper)
    return functools.partial(ApiKeyMiddleware, gate=gate, roles=required_roles(spec))


SCOPE_KEY = "pyoco.principal"


def set_principal(scope: MutableMapping[str, Any], principal: Principal) -> None:
    """Record the caller in an ASGI scope (called by the API-key middleware)."""
    scope[SCOPE_KEY] = principal


def principal_of(scope: Mapping[str, Any]) -> Principal | None:
    """The caller recorded in an ASGI scope (by the API-key middleware), or None."""
    principal = scope.get(SCOPE_KEY)
    return principal if isinstance(principal, Principal) else None


def current_principal() -> Principal | None:
    """The caller of the request being handled, or None with API keys off."""
    return principal_of(current_scope())


def current_tenant() -> str | None:
    """The tenant whose runs the caller is limited to; None when not limited.

    A user key sees its tenant's runs only (another tenant's run is "not found"); an admin key
    sees every tenant's, as everybody does with API keys off.
    """
    principal = current_principal()
    if principal is None or principal.role is Role.ADMIN:
        return None
    return principal.tenant_id


def listed_tenant(asked: str | None) -> str | None:
    """The tenant a listing is filtered by, given the `tenant` it `asked` for (None: any).

    Raises:
        ForbiddenTenant: a user key asked for another tenant than its own.
    """
    own = current_tenant()
    if own is None:
        return asked
    if asked is not None and asked != own:
        raise ForbiddenTenant(asked, own)
    return own
