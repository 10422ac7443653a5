"""Connexion's routing taken by fewer requests (gateway/_routing.py), checked against Connexion's.

The Swagger UI layer routes only its own paths; requests for the spec's literal paths skip the
routing layers and must reach the layer after them exactly as Connexion's router would send them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from connexion.middleware.routing import RoutingMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, Router
from starlette.testclient import TestClient

from pyoco_server.domain.settings import Settings
from pyoco_server.gateway import _routing, create_app
from pyoco_server.memory import MemoryBackend


def test_route_prefixes_are_the_literal_starts_of_routes_and_mounts() -> None:
    async def endpoint(_request: object) -> PlainTextResponse:
        return PlainTextResponse("")

    routes = [
        Route("/openapi.json", endpoint),
        Mount("/base", routes=[Route("/docs/{name}", endpoint), Route("/x", endpoint)]),
        Mount("/static", app=PlainTextResponse("")),
    ]
    assert _routing.route_prefixes(routes) == [
        "/openapi.json",
        "/base/docs/",
        "/base/x",
        "/static",
    ]
    assert _routing.route_prefixes([Mount("", app=Router())]) == [""]  # matches every path


def test_a_path_its_router_would_redirect_with_a_slash_is_routed() -> None:
    async def endpoint(_request: object) -> PlainTextResponse:
        return PlainTextResponse("routed")

    layer = _routing.SwaggerUIOnItsPaths(PlainTextResponse("passed on"))
    layer.router.routes.append(Route("/only/", endpoint))
    client = TestClient(layer)
    assert client.get("/only/").text == "routed"
    redirect = client.get("/only", follow_redirects=False)
    assert (redirect.status_code, redirect.headers["location"]) == (307, "http://testserver/only/")
    assert client.get("/other").text == "passed on"


def test_the_swagger_ui_layer_routes_only_its_own_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings.from_env({"PYOCO_LOAD_DOTENV": "0"})
    app = create_app(settings, MemoryBackend())
    routed: list[str] = []
    with TestClient(app) as client:
        (layer,) = [
            app
            for app in app.middleware.middleware_stack
            if isinstance(app, _routing.SwaggerUIOnItsPaths)
        ]
        # A path no literal route takes reaches the layer, which reads its routes' prefixes.
        assert client.get("/no/such/path").status_code == 404
        router = layer.router

        async def counting(scope: Any, receive: Any, send: Any) -> None:
            routed.append(scope["path"])
            await router(scope, receive, send)

        monkeypatch.setattr(layer, "router", counting)
        assert client.get("/runs").status_code == 200
        assert client.get("/health").status_code == 200
        assert client.get("/no/such/path").status_code == 404
        assert client.post("/runs", json={"flow_name": "x"}).status_code != 404
        assert routed == []
        assert client.get("/openapi.json").json()["openapi"].startswith("3.")
        assert "swagger" in client.get("/docs/").text.lower()
        docs = client.get("/docs", follow_redirects=False)
        assert (docs.status_code, docs.headers["location"]) == (307, "/docs/")
        slash = client.get("/openapi.json/", follow_redirects=False)
        assert slash.status_code == 307, "the router's trailing-slash redirect"
        assert routed == ["/openapi.json", "/docs/", "/docs", "/openapi.json/"]


def _routed_by(layer: Any, method: str, path: str, root_path: str = "") -> dict[str, Any]:
    """What the layer after Connexion's routing receives for a request (see the probe below)."""
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": root_path,
        "query_string": b"",
        "headers": [(b"content-length", b"2")],
        "extensions": {},
    }
    seen: dict[str, Any] = {}

    async def send(message: Any) -> None:  # a refusal (405, 404) answered before the probe
        seen.setdefault("status", message.get("status"))

    async def receive() -> Any:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    asyncio.run(layer(scope, receive, send))
    return seen


def test_literal_routes_route_every_literal_operation_as_connexions_router_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings.from_env({"PYOCO_LOAD_DOTENV": "0"})
    app = create_app(settings, MemoryBackend())
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200  # the stack is built
        stack = app.middleware.middleware_stack
        (literal,) = [layer for layer in stack if isinstance(layer, _routing.LiteralRoutes)]
        (routing,) = [layer for layer in stack if isinstance(layer, RoutingMiddleware)]
        after_routing = routing.app

        async def probe(scope: Any, receive: Any, send: Any) -> None:
            seen = scope.setdefault("pyoco.test.seen", {})
            seen.update(
                routing=dict(scope["extensions"][_routing.ROUTING_EXTENSION]),
                path_params=scope["path_params"],
                keys=sorted(key for key in scope if key != "pyoco.test.seen"),
            )
            await send({"type": "probe", "status": seen})

        monkeypatch.setattr(after_routing, "app", probe)
        assert literal.operations, "the spec has literal paths"
        assert ("POST", "/runs") in literal.operations
        assert ("POST", "/runs/yaml") in literal.operations
        for (method, path), operation_id in literal.operations.items():
            by_connexion = _routed_by(literal.app, method, path)["status"]
            by_literal = _routed_by(literal, method, path)["status"]
            assert by_connexion["routing"] == {"api_base_path": "", "operation_id": operation_id}
            assert by_literal == by_connexion, (method, path)


def test_literal_routes_leave_every_other_request_to_the_routing_layers() -> None:
    passed_on: list[tuple[str, str, str]] = []

    async def usual_way(scope: Any, receive: Any, send: Any) -> None:
        passed_on.append((scope["method"], scope["path"], scope.get("root_path", "")))

    spec = {
        "paths": {
            "/runs": {"get": {"operationId": "list_runs"}, "parameters": []},
            "/runs/{run_id}": {"get": {"operationId": "get_run"}},
        }
    }
    layer = _routing.LiteralRoutes(usual_way, spec=spec)
    assert layer.operations == {("GET", "/runs"): "list_runs"}
    for method, path, root_path in [
        ("HEAD", "/runs", ""),  # Starlette answers HEAD for GET routes: the router decides
        ("POST", "/runs", ""),  # not declared: 405 from the routing layers
        ("GET", "/runs/", ""),  # the router's trailing-slash redirect
        ("GET", "/runs/abc", ""),  # templated
        ("GET", "/runs", "/prefix"),  # mounted under a root path
    ]:
        seen = _routed_by(layer, method, path, root_path)
        assert seen == {}, (method, path)
    assert passed_on == [
        ("HEAD", "/runs", ""),
        ("POST", "/runs", ""),
        ("GET", "/runs/", ""),
        ("GET", "/runs/abc", ""),
        ("GET", "/runs", "/prefix"),
    ]
