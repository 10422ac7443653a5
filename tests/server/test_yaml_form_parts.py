"""POST /runs/yaml's JSON parts (`params`, `retry`), typed as objects in openapi.yaml.

The spec types them as Params and RetryPolicy with `encoding: application/json`; the gateway
still takes exactly what it took when they were JSON text in strings: a part holding JSON text,
with or without a Content-Type, and a blank part as absent.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.support.flows import FLOW_YAML
from tests.support.processes import Gateway

PROBLEM = "application/problem+json"


def post(client: httpx.Client, **parts: Any) -> httpx.Response:
    """Submit FLOW_YAML with `parts`: text, or (text, content type) for a typed part."""
    files: list[tuple[str, Any]] = [("workflow", ("flow.yaml", FLOW_YAML, "application/yaml"))]
    for name, value in {"flow_name": "main", **parts}.items():
        text, kind = value if isinstance(value, tuple) else (value, None)
        files.append((name, (None, text.encode(), kind) if kind else (None, text.encode())))
    return client.post("/runs/yaml", files=files)


def snapshot(client: httpx.Client, response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    found = client.get(f"/runs/{response.json()['run_id']}")
    assert found.status_code == 200, found.text
    run: dict[str, Any] = found.json()
    return run


@pytest.mark.parametrize(
    "params",
    [
        '{"x": 2}',
        ('{"x": 2}', "application/json"),
        (' {"x": 2} ', "application/json; charset=utf-8"),
    ],
)
def test_params_as_json_text_with_or_without_a_content_type(
    gateway: Gateway, params: str | tuple[str, str]
) -> None:
    with gateway.client() as client:
        assert snapshot(client, post(client, params=params))["params"] == {"x": 2}


def test_a_blank_part_counts_as_absent(gateway: Gateway) -> None:
    with gateway.client() as client:
        run = snapshot(client, post(client, params="  ", retry=""))
    assert run["params"] == {"x": 1}, "flow.defaults"
    assert run.get("retry") is None


def test_a_retry_policy_as_json_text(gateway: Gateway) -> None:
    policy = {"max_attempts": 3, "backoff_sec": 0.5}
    with gateway.client() as client:
        run = snapshot(client, post(client, retry=(json.dumps(policy), "application/json")))
    assert run["retry"]["max_attempts"] == 3
    assert run["retry"]["backoff_sec"] == 0.5


@pytest.mark.parametrize(
    ("parts", "reason"),
    [
        ({"params": "{x: 2}"}, "invalid_input"),
        ({"params": "[1, 2]"}, "invalid_input"),
        ({"params": '{"x": NaN}'}, "invalid_input"),
        ({"retry": '{"max_attempts": 3, "jitter": true}'}, "invalid_request"),
        ({"retry": '{"max_attempts": 1.5}'}, "invalid_request"),
        ({"retry": '{"max_attempts": "3"}'}, "invalid_request"),
    ],
)
def test_parts_that_are_not_their_schema_are_400(
    gateway: Gateway, parts: dict[str, str], reason: str
) -> None:
    with gateway.client() as client:
        response = post(client, **parts)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["reason"] == reason
