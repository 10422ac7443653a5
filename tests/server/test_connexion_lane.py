"""Requests that carry only a body answer the same through `BodyLane` and the usual way.

gateway/_lane.py does the work of Connexion's last four layers for operations whose only
parameters are optional headers. Each request here is sent twice to the same gateway (in-memory
backend, API keys on): once with the lane, once with the lane told to send everything the usual
way. The answers must match: status, content type, headers, and body (a new run's id and times
aside). Valid requests must be the lane's to answer, or the comparison would say nothing.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from connexion.middleware.request_validation import RequestValidationMiddleware
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from pyoco_server.domain import keys
from pyoco_server.domain.codec import API_KEY
from pyoco_server.domain.records import Role
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway import _lane, create_app
from pyoco_server.memory import MemoryBackend

BOUNDARY = "lane-test-boundary"
SEED_YAML = (
    "version: 1\nflow:\n  graph: |\n    add_one >> to_text\n  defaults:\n    x: 1\ntasks:\n"
    "  add_one:\n    callable: pyoco_server._workflow_test_tasks:add_one\n"
    "  to_text:\n    callable: pyoco_server._workflow_test_tasks:to_text\n"
)
_VARYING = {"run_id", "submitted_at", "updated_at", "heartbeat_at", "job_seq"}


class Gateway:
    """The gateway under test, sending each request with the lane and the usual way."""

    def __init__(self, client: TestClient, key: str, usual_calls: list[None]) -> None:
        self.client = client
        self.key = key
        stack = client.app.middleware.middleware_stack  # type: ignore[attr-defined]
        (self.lane,) = [layer for layer in stack if isinstance(layer, _lane.BodyLane)]
        assert isinstance(self.lane.app, RequestValidationMiddleware)
        self._usual_calls = usual_calls

    @property
    def usual_calls(self) -> int:
        """Requests the request-validation layer has seen."""
        return len(self._usual_calls)

    def both_ways(
        self, path: str, usual_headers: dict[str, Any] | None = None, **request: Any
    ) -> tuple[Any, Any]:
        """The answer with the lane, and the answer the usual way (with `usual_headers` added)."""
        request.setdefault("headers", {}).setdefault("X-API-Key", self.key)
        with_lane = self.client.post(path, **request)
        request["headers"] = {**request["headers"], **(usual_headers or {})}
        found = self.lane._lane
        self.lane._lane = lambda scope: None  # type: ignore[method-assign]
        try:
            usual = self.client.post(path, **request)
        finally:
            self.lane._lane = found  # type: ignore[method-assign]
        return with_lane, usual

    def assert_same(
        self, path: str, usual_headers: dict[str, Any] | None = None, **request: Any
    ) -> int:
        """Send both ways, compare, and return the status."""
        with_lane, usual = self.both_ways(path, usual_headers, **request)
        assert _answer(with_lane) == _answer(usual), request
        return int(with_lane.status_code)


def _answer(response: Any) -> tuple[Any, ...]:
    headers = {
        name: value
        for name, value in response.headers.items()
        if name not in {"x-request-id", "location", "content-length", "date"}
    }
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        body = {name: value for name, value in body.items() if name not in _VARYING}
    location = response.headers.get("location", "")
    return response.status_code, headers, body, location.rsplit("/", 1)[0]


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    options = Settings(http_auth_mode="api_key", auth_pepper="p")
    backend = MemoryBackend(options)
    plaintext, record = keys.issue("acme", Role.USER, "p", time.time())
    backend.api_key_bucket.put(f"api_keys.{record.key_id}", API_KEY.encode(record))
    calls: list[None] = []
    usual = RequestValidationMiddleware.__call__

    async def counted(self: Any, scope: Any, receive: Any, send: Any) -> None:
        calls.append(None)
        await usual(self, scope, receive, send)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RequestValidationMiddleware, "__call__", counted)
        with TestClient(create_app(options, backend)) as client:
            client.get("/health")  # the stack is built
            yield Gateway(client, plaintext, calls)


def _multipart(fields: dict[str, str], workflow: str | None = SEED_YAML) -> bytes:
    part = f"--{BOUNDARY}\r\nContent-Disposition: form-data; name="
    text = "".join(f'{part}"{name}"\r\n\r\n{value}\r\n' for name, value in fields.items())
    if workflow is not None:
        text += f'{part}"workflow"; filename="flow.yaml"\r\nContent-Type: application/yaml\r\n\r\n'
        text += f"{workflow}\r\n"
    return (text + f"--{BOUNDARY}--\r\n").encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def test_valid_submits_are_the_lanes_and_answer_as_the_usual_way(gateway: Gateway) -> None:
    before = gateway.usual_calls
    assert gateway.assert_same("/runs", json={"flow_name": "main", "params": {"x": 2}}) == 201
    yaml = _multipart({"flow_name": "main", "params": '{"x": 2}', "tags": "a,b"})
    status = gateway.assert_same("/runs/yaml", content=yaml, headers={"Content-Type": MULTIPART})
    assert status == 201
    assert gateway.usual_calls - before == 2, "only the second sending of each went the usual way"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"", "application/json"),
        (b"[]", "application/json"),
        (b'{"params": {}}', "application/json"),
        (b'{"flow_name": 5}', "application/json"),
        (b'{"flow_name": "main", "surprise": 1}', "application/json"),
        (b'{"flow_name": "main", "params": {"x": NaN}}', "application/json"),
        (b'{"flow_name": "main"}', "application/json; charset=latin-1"),
        (b'{"flow_name": "main"}', "application/json; charset=utf-8"),
        (b'{"flow_name": "main"}', "APPLICATION/JSON"),
        (b'{"flow_name": "main"}', "text/plain"),
        (b'{"flow_name": "main"}', "application/merge-patch+json"),
        (b'{"flow_name": "main"}', ""),
    ],
)
def test_json_submits_answer_as_the_usual_way(
    gateway: Gateway, body: bytes, content_type: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    gateway.assert_same("/runs", content=body, headers=headers)


@pytest.mark.parametrize(
    "key", ["k-1", "", " ", "a" * 255, "a" * 256, "tab\tkey", "é", "x y", "\x7f"]
)
def test_idempotency_keys_answer_as_the_usual_way(gateway: Gateway, key: str) -> None:
    # A second sending with the same valid key would be answered as a replay: the usual way
    # gets a valid key of the same shape, its last character changed.
    gateway.assert_same(
        "/runs",
        json={"flow_name": "main"},
        headers={"Idempotency-Key": key.encode()},
        usual_headers={"Idempotency-Key": (key[:-1] + ("b" if key[-1:] == "a" else "a")).encode()}
        if re.fullmatch(r"[!-~]{1,255}", key)
        else None,
    )


def test_query_strings_and_missing_keys_answer_as_the_usual_way(gateway: Gateway) -> None:
    gateway.assert_same("/runs?debug=1", json={"flow_name": "main"})
    for path in ("/runs", "/runs/yaml"):
        with_lane, usual = gateway.both_ways(path, json={}, headers={"X-API-Key": ""})
        assert _answer(with_lane) == _answer(usual)
        assert with_lane.status_code == 401


@pytest.mark.parametrize(
    ("fields", "workflow"),
    [
        ({"flow_name": "main"}, SEED_YAML),
        ({"flow_name": "main", "params": "{"}, SEED_YAML),
        ({"flow_name": "main", "params": "[1]"}, SEED_YAML),
        ({"flow_name": "main", "params": "  "}, SEED_YAML),
        ({"flow_name": "main", "retry": '{"max_attempts": 0}'}, SEED_YAML),
        ({"flow_name": "main", "timeout_sec": "soon"}, SEED_YAML),
        ({"flow_name": "main", "timeout_sec": "5"}, SEED_YAML),
        ({"flow_name": "main", "surprise": "1"}, SEED_YAML),
        ({"flow_name": "main", "requires": "pkg"}, SEED_YAML),
        ({"flow_name": "nope"}, SEED_YAML),
        ({"flow_name": "main"}, "version: 1\nflow: ["),
        ({"flow_name": "main"}, None),
        ({}, SEED_YAML),
    ],
)
def test_flow_yaml_submits_answer_as_the_usual_way(
    gateway: Gateway, fields: dict[str, str], workflow: str | None
) -> None:
    gateway.assert_same(
        "/runs/yaml", content=_multipart(fields, workflow), headers={"Content-Type": MULTIPART}
    )


def test_a_malformed_form_answers_as_the_usual_way(gateway: Gateway) -> None:
    for body in (b"", b"not a form", _multipart({"flow_name": "main"})[:-10]):
        gateway.assert_same("/runs/yaml", content=body, headers={"Content-Type": MULTIPART})
    gateway.assert_same(
        "/runs/yaml",
        content=_multipart({"flow_name": "main"}),
        headers={"Content-Type": "multipart/form-data"},
    )


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=6),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.lists(st.text(max_size=3), max_size=2),
)
_KEYS = st.sampled_from(
    ["flow_name", "params", "tag", "tags", "timeout_sec", "retry", "requires", "other"]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dictionaries(_KEYS, _VALUES, max_size=5))
def test_generated_json_submits_answer_as_the_usual_way(
    gateway: Gateway, body: dict[str, Any]
) -> None:
    gateway.assert_same(
        "/runs", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )


def test_with_response_validation_every_request_takes_the_usual_way() -> None:
    options = Settings(http_auth_mode="none")
    app = create_app(options, MemoryBackend(options), validate_responses=True)
    with TestClient(app) as client:
        stack = app.middleware.middleware_stack
        (lane,) = [layer for layer in stack if isinstance(layer, _lane.BodyLane)]
        assert client.post("/runs", json={"flow_name": "main"}).status_code == 201
        assert lane._lanes
        assert set(lane._lanes.values()) == {None}


def test_a_lane_keeps_one_validator_per_content_type_it_lists(gateway: Gateway) -> None:
    """Built at the first request of each type, then reused; a content type as the operation
    lists it and without a charset only, so that callers cannot grow the set."""
    headers = {"X-API-Key": gateway.key}
    form = _multipart({"flow_name": "main"})
    for _ in range(2):
        response = gateway.client.post(
            "/runs/yaml", content=form, headers={**headers, "Content-Type": MULTIPART}
        )
        assert response.status_code == 201, response.text
        response = gateway.client.post("/runs", json={"flow_name": "main"}, headers=headers)
        assert response.status_code == 201, response.text
    for content_type in ("Application/JSON", "application/json; charset=utf-8"):
        response = gateway.client.post(
            "/runs",
            content=b'{"flow_name": "main"}',
            headers={**headers, "Content-Type": content_type},
        )
        assert response.status_code == 201, (content_type, response.text)
    kept = {
        (lane.spec_operation.operation_id, content_type): type(validator).__name__
        for lane in gateway.lane._lanes.values()
        if lane is not None
        for content_type, validator in lane.validators.items()
    }
    assert kept == {
        ("submit_run", "application/json"): "StrictJSONBodyValidator",
        ("submit_run_yaml", "multipart/form-data"): "Limited",
    }
