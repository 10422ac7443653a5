"""GET /runs/events, GET /runs/{run_id}/graph and GET /metrics/history over HTTP, against a
real gateway, NATS and worker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pyoco_server.domain.settings import Settings
from tests.support.cli import create_key
from tests.support.flows import FLOW_YAML
from tests.support.processes import Gateway, WorkerFactory, start_gateway
from tests.support.runs import submit
from tests.support.sse import Event, events
from tests.support.waiting import wait_terminal, wait_until

FAN_OUT = b"""\
version: 1
flow: {graph: "add_one >> (first: echo & second: echo) >> to_text", defaults: {x: 1}}
tasks:
  add_one: {callable: "pyoco_server._workflow_test_tasks:add_one"}
  echo: {callable: "tests.support.tasks:echo"}
  to_text: {callable: "pyoco_server._workflow_test_tasks:to_text"}
"""


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "PYOCO_SSE_HEARTBEAT_SEC": "0.5"}


def follow(client: httpx.Client, **params: object) -> Iterator[Event]:
    headers = params.pop("headers", {})
    with client.stream("GET", "/runs/events", params=params, headers=headers) as response:  # type: ignore[arg-type]
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield from events(response)


def until(stream: Iterator[Event], found: object, limit: int = 200) -> list[Event]:
    seen = []
    for event in stream:
        seen.append(event)
        if found(event):  # type: ignore[operator]
            return seen
        assert len(seen) < limit, seen
    raise AssertionError(f"the stream ended: {seen}")


def test_the_list_stream_pushes_runs_and_counts(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker()
    with gateway.client(timeout=30) as client:
        stream = follow(client, timeout_sec=20)
        first = next(stream)
        assert (first.event, first.data) == ("counts", {"total": 0, "by_status": {}})
        run_id = submit(client, FLOW_YAML)
        seen = until(stream, lambda e: e.event == "run" and e.data["status"] == "COMPLETED")
        runs = [e for e in seen if e.event == "run"]
        assert {e.data["run_id"] for e in runs} == {run_id}
        assert [int(e.id or 0) for e in runs] == sorted(int(e.id or 0) for e in runs)
        counts = until(stream, lambda e: e.event == "counts" and e.data["total"] == 1)[-1]
        assert counts.data["by_status"] == {"COMPLETED": 1}
        heartbeat = until(stream, lambda e: e.event == "heartbeat")[-1]
        assert set(heartbeat.data) == {"ts"}


def test_filters_and_resuming_after_a_position(gateway: Gateway) -> None:
    with gateway.client(timeout=30) as client:
        stream = follow(client, tag="red", timeout_sec=20)
        next(stream)
        blue = client.post("/runs", json={"flow_name": "f", "tag": "blue"}).json()["run_id"]
        red = client.post("/runs", json={"flow_name": "f", "tag": "red"}).json()["run_id"]
        got = until(stream, lambda e: e.event == "run")[-1]
        assert got.data["run_id"] == red
        position = got.id
        client.post(f"/runs/{red}/cancel")
        client.post(f"/runs/{blue}/cancel")
        later = client.post("/runs", json={"flow_name": "f", "tag": "red"}).json()["run_id"]

        resumed = follow(client, tag="red", timeout_sec=5, headers={"Last-Event-ID": position})
        assert next(resumed).event == "counts"
        replay = until(resumed, lambda e: e.event == "run" and e.data["run_id"] == later)
        assert [(e.data["run_id"], e.data["status"]) for e in replay if e.event == "run"] == [
            (red, "CANCELLED"),
            (later, "PENDING"),
        ]

        foreign = follow(client, timeout_sec=2, headers={"Last-Event-ID": "99999999"})
        assert [e.event for e in (next(foreign), next(foreign))] == ["counts", "reset"]
        bad = client.get("/runs/events", headers={"Last-Event-ID": "x"})
        assert bad.status_code == 400


def test_list_streams_take_watch_slots(settings: Settings, tmp_path: Path) -> None:
    gateway = start_gateway(settings, tmp_path, PYOCO_WATCH_MAX_STREAMS="1")
    with gateway.client(timeout=30) as client:
        stream = follow(client, timeout_sec=20)
        next(stream)
        refused = client.get("/runs/events")
        assert refused.status_code == 429
        assert refused.json()["reason"] == "too_many_watches"
        stream.close()  # the slot is free once the gateway sees the client gone
        wait_until(
            lambda: client.get("/runs/events", params={"timeout_sec": 1}).status_code == 200,
            10,
            "the slot to be given back",
        )


def test_tenants_see_their_own_runs_and_admins_every_tenants(
    settings: Settings, tmp_path: Path
) -> None:
    gateway = start_gateway(settings, tmp_path, PYOCO_HTTP_AUTH_MODE="api_key")
    acme, other, admin = (
        create_key(settings, tenant, role)
        for tenant, role in (("acme", "user"), ("other", "user"), ("ops", "admin"))
    )
    with gateway.client(timeout=30) as client:
        assert client.get("/runs/events").status_code == 401
        as_acme = follow(client, timeout_sec=10, headers={"X-API-Key": acme})
        as_admin = follow(client, timeout_sec=10, headers={"X-API-Key": admin})
        next(as_acme), next(as_admin)
        theirs = client.post("/runs", json={"flow_name": "f"}, headers={"X-API-Key": other}).json()
        mine = client.post("/runs", json={"flow_name": "f"}, headers={"X-API-Key": acme}).json()
        acme_saw = until(as_acme, lambda e: e.event == "run")
        assert [e.data["run_id"] for e in acme_saw if e.event == "run"] == [mine["run_id"]]
        admin_saw = until(
            as_admin, lambda e: e.event == "run" and e.data["run_id"] == mine["run_id"]
        )
        assert theirs["run_id"] in {e.data["run_id"] for e in admin_saw if e.event == "run"}
        forbidden = client.get(
            "/runs/events", params={"tenant": "other"}, headers={"X-API-Key": acme}
        )
        assert forbidden.status_code == 403
        assert forbidden.json()["reason"] == "forbidden_tenant"
        graph = client.get(f"/runs/{theirs['run_id']}/graph", headers={"X-API-Key": acme})
        assert graph.status_code == 404
        history = client.get("/metrics/history", headers={"X-API-Key": acme})
        assert (history.status_code, history.json()["reason"]) == (403, "forbidden_role")
        assert client.get("/metrics/history", headers={"X-API-Key": admin}).status_code == 200


def test_the_graph_of_a_flow_yaml_run_and_of_a_run_by_name(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker()
    with gateway.client() as client:
        run_id = submit(client, FAN_OUT)
        wait_terminal(client, run_id)
        graph = client.get(f"/runs/{run_id}/graph").json()
        by_name = client.post("/runs", json={"flow_name": "double", "tag": "nobody"}).json()
        named = client.get(f"/runs/{by_name['run_id']}/graph").json()
        missing = client.get("/runs/nope/graph")
    assert graph["complete"] is True
    assert graph["status"] == "COMPLETED"
    assert {node["name"]: node["state"] for node in graph["nodes"]} == dict.fromkeys(
        ("add_one", "first", "second", "to_text"), "SUCCEEDED"
    )
    assert {(e["source"], e["target"]) for e in graph["edges"]} == {
        ("add_one", "first"),
        ("add_one", "second"),
        ("first", "to_text"),
        ("second", "to_text"),
    }
    assert named == {
        "run_id": by_name["run_id"],
        "status": "PENDING",
        "nodes": [],
        "edges": [],
        "complete": False,
    }
    assert missing.status_code == 404


def test_the_metrics_history_counts_submits_and_endings(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker()
    with gateway.client() as client:
        ids = [submit(client, FLOW_YAML) for _ in range(3)]
        for run_id in ids:
            wait_terminal(client, run_id)
        response = client.get("/metrics/history")
    assert response.status_code == 200
    history = response.json()
    assert history["interval_sec"] == 10
    assert len(history["points"]) == 360
    assert sum(point["submitted"] for point in history["points"]) == 3
    assert sum(point["completed"] for point in history["points"]) == 3
    ended = [point for point in history["points"] if point["completed"]]
    assert all(0 < point["latency_p50_ms"] <= point["latency_p95_ms"] < 30_000 for point in ended)
    assert json.dumps(history)  # plain JSON
