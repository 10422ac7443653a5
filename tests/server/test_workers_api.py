"""GET /workers and PATCH /workers/{worker_id} against the real gateway and NATS.

The tests stand in for workers by writing records straight into the `pyoco_workers` bucket.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any
from urllib.parse import quote

import httpx
import nats
import pytest

from pyoco_server.domain.codec import WORKER_RECORD
from pyoco_server.domain.records import WorkerRecord, WorkerState
from pyoco_server.domain.settings import Settings
from tests.support.processes import Gateway

PROBLEM = "application/problem+json"


def record(worker_id: str, *, seen_ago: float = 0.0, **fields: Any) -> WorkerRecord:
    """A worker record last seen `seen_ago` seconds ago (IDLE unless `state` is given)."""
    now = time.time()
    values: dict[str, Any] = {
        "instance_id": f"{worker_id}-instance",
        "state": WorkerState.IDLE,
        "hidden": False,
        "tags": ("default",),
        "concurrency": 2,
        "current_run_ids": (),
        "started_at": now - 7200,
        "last_seen_at": now - seen_ago,
        "updated_at": now - seen_ago,
        "hostname": "host-1",
        "pid": 4242,
        **fields,
    }
    return WorkerRecord(worker_id=worker_id, **values)


async def _put(settings: Settings, records: tuple[WorkerRecord, ...]) -> None:
    nc = await nats.connect(settings.nats_url)
    try:
        kv = await nc.jetstream().key_value(settings.workers_kv_bucket)
        for item in records:
            await kv.put(item.worker_id, WORKER_RECORD.encode(item))
    finally:
        await nc.close()


def put_records(settings: Settings, *records: WorkerRecord) -> None:
    """Write records as their workers would."""
    asyncio.run(_put(settings, records))


async def _get(settings: Settings, worker_id: str) -> WorkerRecord:
    nc = await nats.connect(settings.nats_url)
    try:
        kv = await nc.jetstream().key_value(settings.workers_kv_bucket)
        entry = await kv.get(worker_id)
        assert entry.value is not None
        return WORKER_RECORD.decode(entry.value)
    finally:
        await nc.close()


def stored_record(settings: Settings, worker_id: str) -> WorkerRecord:
    """The record as stored in the bucket."""
    return asyncio.run(_get(settings, worker_id))


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["worker_id"] for item in response.json()["items"]]


def assert_problem(response: httpx.Response, status: int, reason: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    if reason is not None:
        assert response.json()["reason"] == reason


@pytest.fixture
def fleet(settings: Settings) -> dict[str, WorkerRecord]:
    """Five workers, one of each kind, written before the requests."""
    records = {
        "busy": record("busy", state=WorkerState.RUNNING, current_run_ids=("run-1",)),
        "idle": record("idle", seen_ago=1.0),
        "stopped": record(
            "stopped",
            seen_ago=2.0,
            state=WorkerState.STOPPED_GRACEFUL,
            stopped_at=time.time() - 2.0,
            stop_reason="SIGTERM",
        ),
        "stale": record("stale", seen_ago=3600.0, state=WorkerState.RUNNING),
        "hidden": record("hidden", seen_ago=0.5, hidden=True),
    }
    put_records(settings, *records.values())
    return records


def test_no_workers_is_an_empty_list(gateway: Gateway) -> None:
    with gateway.client() as client:
        for params in ({}, {"scope": "all", "include_hidden": "true"}):
            response = client.get("/workers", params=params)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/json"
            assert response.json() == {"items": [], "next_cursor": None}


def test_default_lists_active_visible_workers_by_id(
    gateway: Gateway, fleet: dict[str, WorkerRecord]
) -> None:
    with gateway.client() as client:
        response = client.get("/workers")
    assert ids(response) == ["busy", "idle"]
    busy = response.json()["items"][0]
    assert busy["state"] == "RUNNING"
    assert busy["current_run_ids"] == ["run-1"]
    assert busy["hostname"] == "host-1"


def test_scope_all_shows_stopped_and_disconnected_workers(
    gateway: Gateway, fleet: dict[str, WorkerRecord]
) -> None:
    with gateway.client() as client:
        response = client.get("/workers", params={"scope": "all"})
    assert ids(response) == ["busy", "idle", "stale", "stopped"]
    states = {item["worker_id"]: item["state"] for item in response.json()["items"]}
    assert states["stopped"] == "STOPPED_GRACEFUL"
    assert states["stale"] == "DISCONNECTED", "a RUNNING record not written for an hour"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"scope": "all", "state": "DISCONNECTED"}, ["stale"]),
        ({"state": "DISCONNECTED"}, []),
        ({"scope": "all", "state": "RUNNING"}, ["busy"]),
        ({"state": "IDLE"}, ["idle"]),
        ({"state": "IDLE", "include_hidden": "true"}, ["hidden", "idle"]),
        ({"include_hidden": "true"}, ["busy", "hidden", "idle"]),
        ({"scope": "all", "state": "STOPPED_GRACEFUL"}, ["stopped"]),
        ({"limit": "1"}, ["busy"]),
        ({"scope": "all", "include_hidden": "true", "limit": "3"}, ["busy", "hidden", "idle"]),
    ],
)
def test_filters(
    gateway: Gateway,
    fleet: dict[str, WorkerRecord],
    params: dict[str, str],
    expected: list[str],
) -> None:
    with gateway.client() as client:
        assert ids(client.get("/workers", params=params)) == expected


def test_pages_follow_the_cursor_in_worker_id_order(
    gateway: Gateway, fleet: dict[str, WorkerRecord]
) -> None:
    params = {"scope": "all", "include_hidden": "true", "limit": "2"}
    seen: list[str] = []
    pages = 0
    with gateway.client() as client:
        cursor = None
        while True:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            response = client.get("/workers", params=query)
            assert response.status_code == 200, response.text
            seen += ids(response)
            pages += 1
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
    assert seen == ["busy", "hidden", "idle", "stale", "stopped"]
    assert pages == 3


def test_an_id_with_an_empty_token_is_no_worker(gateway: Gateway) -> None:
    with gateway.client() as client:
        response = client.patch("/workers/a..b", json={"hidden": True})
    assert_problem(response, 404, "worker_not_found")


def test_a_cursor_that_is_no_worker_id_is_400(gateway: Gateway) -> None:
    with gateway.client() as client:
        response = client.get("/workers", params={"cursor": "not a cursor"})
    assert_problem(response, 400, "invalid_request")


def test_hiding_a_worker_persists_and_can_be_undone(
    gateway: Gateway, settings: Settings, fleet: dict[str, WorkerRecord]
) -> None:
    before = stored_record(settings, "idle")
    with gateway.client() as client:
        hidden = client.patch("/workers/idle", json={"hidden": True})
        assert hidden.status_code == 200, hidden.text
        assert hidden.json()["hidden"] is True
        assert hidden.json()["state"] == "IDLE"
        assert ids(client.get("/workers")) == ["busy"]
        assert "idle" in ids(client.get("/workers", params={"include_hidden": "true"}))

        stored = stored_record(settings, "idle")
        assert stored.hidden is True
        assert stored.updated_at > before.updated_at
        assert dataclasses.replace(stored, hidden=False, updated_at=before.updated_at) == before

        shown = client.patch("/workers/idle", json={"hidden": False})
        assert shown.status_code == 200, shown.text
        assert shown.json()["hidden"] is False
        assert ids(client.get("/workers")) == ["busy", "idle"]
    assert stored_record(settings, "idle").hidden is False


def test_patch_shows_the_derived_state(gateway: Gateway, fleet: dict[str, WorkerRecord]) -> None:
    with gateway.client() as client:
        response = client.patch("/workers/stale", json={"hidden": True})
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "DISCONNECTED"


def test_patching_an_unknown_worker_is_404(gateway: Gateway) -> None:
    with gateway.client() as client:
        response = client.patch("/workers/nobody", json={"hidden": True})
    assert_problem(response, 404, "worker_not_found")
    assert "nobody" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"hidden": "yes"},
        {},
        {"hidden": True, "state": "IDLE"},
        [True],
    ],
)
def test_patch_with_a_bad_body_is_400(
    gateway: Gateway, fleet: dict[str, WorkerRecord], body: object
) -> None:
    with gateway.client() as client:
        assert_problem(client.patch("/workers/idle", json=body), 400)


def test_patch_with_a_body_that_is_not_json_is_400(
    gateway: Gateway, fleet: dict[str, WorkerRecord]
) -> None:
    with gateway.client() as client:
        response = client.patch(
            "/workers/idle", content=b"hidden", headers={"content-type": "application/json"}
        )
    assert_problem(response, 400)


@pytest.mark.parametrize("worker_id", [".bad", "a b", "x" * 200])
def test_patch_with_a_bad_worker_id_is_400(gateway: Gateway, worker_id: str) -> None:
    with gateway.client() as client:
        response = client.patch(f"/workers/{quote(worker_id)}", json={"hidden": True})
    assert_problem(response, 400)


def test_patch_with_a_newline_in_the_worker_id_is_refused(
    gateway: Gateway, fleet: dict[str, WorkerRecord]
) -> None:
    # The router does not match it (404); the service would refuse it too (400).
    with gateway.client() as client:
        response = client.patch("/workers/idle%0A", json={"hidden": True})
    assert response.status_code in (400, 404)
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    "params",
    [
        {"scope": "some"},
        {"state": "GONE"},
        {"limit": "0"},
        {"limit": "501"},
        {"include_hidden": "x"},
    ],
)
def test_list_with_bad_parameters_is_400(gateway: Gateway, params: dict[str, str]) -> None:
    with gateway.client() as client:
        assert_problem(client.get("/workers", params=params), 400)
