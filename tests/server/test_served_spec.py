"""The spec a gateway serves (`/openapi.json`, `/docs/`) follows its configuration.

With API keys on, every operation but /health needs the scheme, whose `name` is the header the
gateway reads (PYOCO_HTTP_API_KEY_HEADER); with them off, no operation needs a key.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from pyoco_server.contracts import load_openapi
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway import _routing, create_app
from pyoco_server.gateway.app import served_spec
from pyoco_server.memory import MemoryBackend
from tests.support.processes import Gateway, start_gateway

_METHODS = {"get", "put", "post", "delete", "patch"}


def served(gateway: Gateway) -> dict[str, Any]:
    with gateway.client() as client:
        response = client.get("/openapi.json")
        docs = client.get("/docs/")
    assert response.status_code == 200, response.text
    assert docs.status_code == 200, "the Swagger UI serves the same spec"
    spec: dict[str, Any] = response.json()
    return spec


def security_by_operation(spec: dict[str, Any]) -> dict[str, Any]:
    """Each operation's effective security requirement (its own, else the spec's)."""
    return {
        f"{method.upper()} {path}": operation.get("security", spec.get("security", []))
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in _METHODS
    }


def test_with_keys_off_no_operation_needs_a_key(gateway: Gateway) -> None:
    spec = served(gateway)
    assert spec["security"] == []
    assert all(not security for security in security_by_operation(spec).values())
    assert spec["components"]["securitySchemes"]["ApiKeyAuth"]["name"] == "X-API-Key"


def test_with_keys_on_every_operation_but_health_needs_the_renamed_header(
    settings: Settings, tmp_path: Path
) -> None:
    gateway = start_gateway(
        settings, tmp_path, PYOCO_HTTP_AUTH_MODE="api_key", PYOCO_HTTP_API_KEY_HEADER="X-Token"
    )
    try:
        spec = served(gateway)
        with gateway.client() as client:
            refused = client.get("/runs")
    finally:
        gateway.process.stop()
    scheme = spec["components"]["securitySchemes"]["ApiKeyAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-Token")
    needs = security_by_operation(spec)
    assert needs.pop("GET /health") == []
    assert needs
    assert all(security == [{"ApiKeyAuth": []}] for security in needs.values())
    assert refused.status_code == 401, "the served contract is what the gateway enforces"


def test_source_spec_declares_the_scheme_for_generated_clients() -> None:
    spec = load_openapi()
    assert spec["security"] == [{"ApiKeyAuth": []}]
    assert spec["components"]["securitySchemes"]["ApiKeyAuth"]["name"] == "X-API-Key"


def test_the_spec_is_served_as_written_with_its_refs_and_rendered_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings.from_env({"PYOCO_LOAD_DOTENV": "0"})
    renders: list[str] = []
    render = _routing.render_spec

    def counted(spec: dict[str, Any], kind: str) -> bytes:
        renders.append(kind)
        return render(spec, kind)

    monkeypatch.setattr(_routing, "render_spec", counted)
    with TestClient(create_app(settings, MemoryBackend())) as client:
        answers = [client.get(path) for path in ["/openapi.json", "/openapi.yaml"] * 3]

    expected = {**served_spec(settings), "servers": [{"url": ""}]}
    assert all(answer.status_code == 200 for answer in answers)
    assert answers[0].headers["content-type"] == "application/json"
    assert answers[1].headers["content-type"].startswith("text/yaml")
    assert answers[0].json() == expected, "the contract as written, fitted to the settings"
    assert yaml.safe_load(answers[1].text) == expected
    assert list(answers[0].json()["paths"]) == list(expected["paths"]), "literal paths first"
    assert '"$ref":"#/components/schemas/' in answers[0].text
    assert len(answers[0].content) < 250_000
    assert renders == ["json", "yaml"], "each kind is rendered once, not per request"
    assert answers[4].content == answers[0].content


def test_a_gateway_under_a_root_path_serves_its_base_path_in_servers() -> None:
    settings = Settings.from_env({"PYOCO_LOAD_DOTENV": "0"})
    app = create_app(settings, MemoryBackend())
    with TestClient(app, root_path="/pyoco") as client:
        spec = client.get("/pyoco/openapi.json").json()
    assert spec["servers"] == [{"url": "/pyoco"}]
    assert spec["paths"] == served_spec(settings)["paths"]


def test_a_date_yaml_reads_from_the_spec_is_rendered_as_its_text() -> None:
    spec = {"info": {"x-released": datetime.date(2026, 12, 2)}, "paths": {}}
    assert json.loads(_routing.render_spec(spec, "json")) == {
        "info": {"x-released": "2026-12-02"},
        "paths": {},
    }
    assert yaml.safe_load(_routing.render_spec(spec, "yaml")) == spec
