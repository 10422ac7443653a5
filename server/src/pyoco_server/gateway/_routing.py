"""Connexion's routing, taken by fewer requests: the Connexion 3.3 internals it relies on.

With gateway/_connexion.py, _lane.py and _validators.py, the only modules that use Connexion's
internals (`tests/server/test_connexion_routing.py` and `test_connexion_internals.py` check
them):

- Connexion's routing layer records the matched operation in the scope (`ROUTING_EXTENSION`),
  which the API-key, body-limit and rate layers read (`_connexion.matched_operation_id`).
- Its Swagger UI layer routes only the requests for the spec and the UI (`SwaggerUIOnItsPaths`).
- Requests for the spec's literal paths are routed as its routing layer would route them and
  handed to the layer after it (`LiteralRoutes`).
"""

from __future__ import annotations

import copy
import datetime
import json
from collections.abc import Mapping
from typing import Any

import yaml
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.swagger_ui import SwaggerUIAPI, SwaggerUIMiddleware
from connexion.spec import Specification, canonical_base_path
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

ROUTING_EXTENSION = "connexion_routing"
"""Where Connexion's routing layer records the matched operation in the ASGI scope."""


class SwaggerUIOnItsPaths(SwaggerUIMiddleware):
    """Connexion's Swagger UI layer, routing only the requests its routes could match.

    Connexion's layer copies the scope and routes every request through its router (the spec's
    JSON and YAML, and the UI), whose default passes the copy on: for an API request, a
    routing pass that matches nothing. A request whose path (with or without a trailing slash,
    which its router redirects) starts with none of its routes' literal prefixes is passed on
    here as that default would; any other, and any under a `root_path`, is routed as before.

    Its spec routes serve the spec rendered once (`SpecRenderedOnce`).
    """

    _prefixes: tuple[str, ...] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            prefixes = self._prefixes
            if prefixes is None:
                prefixes = self._prefixes = tuple(route_prefixes(self.router.routes))
            path = scope["path"]
            if not path.startswith(prefixes) and not (path + "/").startswith(prefixes):
                await self.app(dict(scope), receive, send)  # a copy, as its default passes on
                return
        await super().__call__(scope, receive, send)

    def add_api(
        self,
        specification: Specification,
        base_path: str | None = None,
        arguments: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """As Connexion's layer adds an API, with `SpecRenderedOnce` for its routes."""
        api = SpecRenderedOnce(
            specification,
            base_path=base_path,
            arguments=arguments,
            default=self.default_fn,
            **kwargs,
        )
        self.router.mount(api.base_path, app=api.router)


class SpecRenderedOnce(SwaggerUIAPI):
    """The Swagger UI layer's routes for one API, with the spec rendered once per base path.

    The spec (`/openapi.json`, `/openapi.yaml`) is served as written, its `$ref`s kept (the
    contract clients are generated from). Connexion's routes copy, validate and resolve the
    whole spec for every request (0.18-0.29 s of CPU for the JSON and 1.6-1.8 s for the YAML
    on the benchmark machine, each blocking the event loop, for anyone who asks) and serve it
    with every `$ref` inlined (1.1 MB of JSON).
    """

    _documents: dict[tuple[str, str], bytes] | None = None

    async def _get_openapi_json(self, request: Request) -> Response:
        return Response(self._document(request, "json"), media_type="application/json")

    async def _get_openapi_yaml(self, request: Request) -> Response:
        return Response(self._document(request, "yaml"), media_type="text/yaml")

    def _document(self, request: Request, kind: str) -> bytes:
        """The spec for the request's base path (`root_path`), as JSON or YAML."""
        base_path = self._base_path_for_prefix(request)
        documents = self._documents
        if documents is None:
            documents = self._documents = {}
        document = documents.get((base_path, kind))
        if document is None:
            spec = copy.deepcopy(self.specification.raw)
            spec["servers"] = [{"url": canonical_base_path(base_path)}]  # as Connexion's routes
            document = render_spec(spec, kind)
            if len(documents) < _DOCUMENTS_KEPT:  # base paths are the server's: few
                documents[(base_path, kind)] = document
        return document


_DOCUMENTS_KEPT = 8


def render_spec(spec: Mapping[str, Any], kind: str) -> bytes:
    """`spec` as JSON or (`kind` "yaml") YAML, keys in the spec's order."""
    if kind == "yaml":
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text = yaml.dump(spec, Dumper=dumper, sort_keys=False, allow_unicode=True)
        return text.encode()
    return json.dumps(spec, ensure_ascii=False, separators=(",", ":"), default=_dated).encode()


def _dated(value: object) -> str:
    """A date YAML read from an unquoted value (`2026-12-02`), as its text."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


class LiteralRoutes:
    """Requests for the spec's literal paths, routed here as Connexion's routing layer would.

    Connexion's routing goes through three layers (the Swagger UI's, `paths.LiteralPathMethods`,
    its own), and its own copies the scope and tries the spec's routes one by one. A request for
    an operation of a path without parameters (`POST /runs`, `POST /runs/yaml`, `GET /runs`,
    `GET /health`, ...) has exactly one answer: the spec lists literal paths first
    (`paths.literal_paths_first`), so the router takes that operation. Such a request gets the
    scope the routing layer would pass on (a copy, with `path_params` and the operation in the
    routing extension) and goes straight to the layer after it; every layer from there on
    (body limits, the API-key check, rates, validation, the handler) runs as for any request.
    HEAD, methods the path does not declare, requests under a `root_path` and every other path
    take the usual way. `tests/server/test_connexion_routing.py` checks, for every literal path
    and method of the spec, that Connexion's router picks the same operation.
    """

    def __init__(self, app: ASGIApp, *, spec: Mapping[str, Any]) -> None:
        self.app = app
        self.operations = literal_operations(spec)
        self._after_routing: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            operation_id = self.operations.get((scope["method"], scope["path"]))
            if operation_id is not None:
                routed = dict(scope)  # the routing layer passes on a copy
                routed.setdefault("path_params", {})
                routing = routed.setdefault("extensions", {}).setdefault(ROUTING_EXTENSION, {})
                routing.update({"api_base_path": "", "operation_id": operation_id})
                await self._next_after_routing()(routed, receive, send)
                return
        await self.app(scope, receive, send)

    def _next_after_routing(self) -> ASGIApp:
        """The layer the routing layer hands requests to (found once, in the built stack)."""
        if self._after_routing is None:
            layer: Any = self.app
            while not isinstance(layer, RoutingMiddleware):
                layer = layer.app  # every layer before routing keeps the next one as `app`
            self._after_routing = layer.app
        return self._after_routing


def literal_operations(spec: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """The operationId of each (METHOD, path) of `spec` whose path has no parameters."""
    return {
        (method.upper(), path): operation["operationId"]
        for path, item in spec["paths"].items()
        if "{" not in path
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    }


def route_prefixes(routes: list[BaseRoute], base: str = "") -> list[str]:
    """The literal start of every path `routes` can match (a mount's, with its sub-routes)."""
    prefixes = []
    for route in routes:
        path = base + str(getattr(route, "path", ""))
        inner = route.routes if isinstance(route, Mount) else []
        if inner:
            prefixes += route_prefixes(inner, path)
        else:
            prefixes.append(path.split("{", 1)[0])
    return prefixes
