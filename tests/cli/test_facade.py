"""`Client` and `AsyncClient` against the real gateway, NATS and workers: listing, waiting,
cancelling, idempotent submits and the operations endpoints."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from pyoco_client import AsyncClient, Client, ProblemError, RunNotFound, TimedOut
from tests.support.flows import FLOW_YAML, flow_yaml
from tests.support.processes import Gateway, WorkerFactory
from tests.support.waiting import wait_until


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "PYOCO_CANCEL_GRACE_PERIOD_SEC": "1"}


def test_list_follows_the_cursor_over_every_page(gateway: Gateway) -> None:
    with Client(gateway.url) as client:
        run_ids = [client.submit("main", tag="nowhere")["run_id"] for _ in range(120)]
        wait_until(lambda: len(client.list_page(limit=200)["items"]) == 120, what="the index")
        listed = [run["run_id"] for run in client.list(tag="nowhere", page_size=50)]
        first = client.list_page(tag="nowhere", limit=50)
        second = client.list_page(tag="nowhere", limit=50, cursor=first["next_cursor"])
    assert listed == list(reversed(run_ids))  # newest first, none skipped or repeated
    assert [run["run_id"] for run in first["items"] + second["items"]] == listed[:100]

    async def listed_async() -> list[str]:
        async with AsyncClient(gateway.url) as client:
            return [run["run_id"] async for run in client.list(status="PENDING", page_size=50)]

    assert asyncio.run(listed_async()) == listed


def test_wait_returns_the_terminal_snapshot(gateway: Gateway, start_worker: WorkerFactory) -> None:
    start_worker()
    with Client(gateway.url) as client:
        run_id = client.submit_yaml(FLOW_YAML, "main", params={"x": 5})["run_id"]
        run = client.wait(run_id, timeout=60, records=True)
    assert run["status"] == "COMPLETED"
    assert run["task_records"]["to_text"]["output"] == "6"


def test_wait_gives_up_after_its_timeout(gateway: Gateway) -> None:
    with Client(gateway.url) as client:
        run_id = client.submit("main", tag="nowhere")["run_id"]
        started = time.monotonic()
        with pytest.raises(TimedOut) as caught:
            client.wait(run_id, timeout=1.5)
    took = time.monotonic() - started
    assert caught.value.run_id == run_id
    assert str(caught.value) == f"run {run_id!r} did not end within 1.5s"
    assert 1.5 <= took < 4


def test_watch_of_an_unknown_run_is_run_not_found(gateway: Gateway) -> None:
    with Client(gateway.url) as client, pytest.raises(RunNotFound):
        next(client.watch("no-such-run"))


def test_cancel_then_wait_stops_a_sleeping_run(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker()
    pid_file = tmp_path / "task.pid"
    with Client(gateway.url) as client:
        run_id = client.submit_yaml(
            flow_yaml("sleep_for"), "main", params={"seconds": 3600, "pid_file": str(pid_file)}
        )["run_id"]
        wait_until(pid_file.exists, timeout=30, what="the task to start")
        assert client.cancel(run_id, reason="enough")["status"] == "CANCELLING"
        run = client.wait(run_id, timeout=30)
    assert run["status"] == "CANCELLED"
    assert run["cancel_reason"] == "enough"


def test_idempotency_key_returns_the_first_run(gateway: Gateway) -> None:
    with Client(gateway.url) as client:
        first = client.submit("main", params={"x": 1}, idempotency_key="order-1")
        again = client.submit("main", params={"x": 1}, idempotency_key="order-1")
        yaml_first = client.submit_yaml(FLOW_YAML, "main", idempotency_key="y-1")
        yaml_again = client.submit_yaml(FLOW_YAML, "main", idempotency_key="y-1")
        with pytest.raises(ProblemError) as caught:
            client.submit("main", params={"x": 2}, idempotency_key="order-1")
    assert again == first
    assert yaml_again == yaml_first
    assert (caught.value.status, caught.value.reason) == (409, "idempotency_key_reused")


def test_async_client_covers_every_operation(gateway: Gateway, start_worker: WorkerFactory) -> None:
    start_worker(tags=["default"], worker_id="w-async")

    async def scenario() -> dict[str, Any]:
        async with AsyncClient(gateway.url) as client:
            found: dict[str, Any] = {"health": await client.health()}
            done = await client.submit_yaml(FLOW_YAML, "main", params={"x": 1})
            found["run"] = await client.wait(done["run_id"], timeout=60, records=True)
            found["get"] = await client.get(done["run_id"])
            found["tasks"] = await client.tasks(done["run_id"])
            missing = await client.submit("no_such_flow")
            found["failed"] = await client.wait(missing["run_id"], timeout=60)
            pending = await client.submit("main", tag="nowhere")
            found["cancelled"] = await client.cancel(pending["run_id"])
            found["workers"] = await client.workers(scope="all")
            found["hidden"] = await client.hide_worker("w-async")
            found["shown"] = await client.unhide_worker("w-async")
            found["dead"] = [letter async for letter in client.dead_letters(page_size=1)]
            found["page"] = await client.dead_letters_page(reason="flow_not_found", limit=5)
            found["redriven"] = await client.redrive(found["dead"][0]["id"])
            found["metrics"] = await client.metrics()
            return found

    found = asyncio.run(scenario())
    assert found["health"] == {"status": "ok"}
    assert found["run"]["task_records"]["to_text"]["output"] == "2"
    assert found["get"]["status"] == "COMPLETED"
    assert found["tasks"]["tasks"] == {"add_one": "SUCCEEDED", "to_text": "SUCCEEDED"}
    assert found["failed"]["error_reason"] == "flow_not_found"
    assert found["cancelled"]["status"] == "CANCELLED"
    assert [worker["worker_id"] for worker in found["workers"]] == ["w-async"]
    assert (found["hidden"]["hidden"], found["shown"]["hidden"]) == (True, False)
    assert [letter["run_id"] for letter in found["dead"]] == [found["failed"]["run_id"]]
    assert found["page"]["items"] == found["dead"]
    assert found["redriven"]["run_id"] == found["failed"]["run_id"]
    assert "pyoco_runs" in found["metrics"]
