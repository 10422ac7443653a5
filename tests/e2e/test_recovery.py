"""Workers that die or stop: nothing accepted is lost, and the registry tells the story."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest

from pyoco_server.local.natsserver import NatsServer
from tests.support.flows import FLOW_YAML, flow_yaml
from tests.support.nats import dead_letters
from tests.support.processes import Gateway, WorkerFactory
from tests.support.runs import status, submit
from tests.support.waiting import TERMINAL, wait_terminal, wait_until


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {
        **settings_env,
        "PYOCO_CONSUMER_ACK_WAIT_SEC": "2",
        "PYOCO_WORKER_HEARTBEAT_INTERVAL_SEC": "0.5",
        "PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC": "2",
    }


def wait_all_terminal(client: httpx.Client, run_ids: list[str], timeout: float) -> dict[str, dict]:  # type: ignore[type-arg]
    pending = set(run_ids)
    ended: dict[str, dict] = {}  # type: ignore[type-arg]

    def all_done() -> bool:
        for run_id in list(pending):
            body = status(client, run_id)
            if body["status"] in TERMINAL:
                ended[run_id] = body
                pending.discard(run_id)
        return not pending

    wait_until(all_done, timeout, f"{len(run_ids)} runs to end")
    return ended


def workers(client: httpx.Client) -> dict[str, dict]:  # type: ignore[type-arg]
    listed = client.get("/workers", params={"scope": "all", "include_hidden": "true"}).json()[
        "items"
    ]
    return {record["worker_id"]: record for record in listed}


def test_sigkill_of_one_of_two_workers_loses_no_run(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    doomed = start_worker(worker_id="doomed", args=["--concurrency", "4"])
    start_worker(worker_id="survivor", args=["--concurrency", "4"])
    with gateway.client() as client:
        run_ids = [
            submit(client, flow_yaml("sleep_for"), params='{"seconds": 1}') for _ in range(20)
        ]
        wait_until(
            lambda: sum(status(client, r).get("worker_id") == "doomed" for r in run_ids) >= 2,
            what="runs in flight on the doomed worker",
        )
        on_doomed = {
            r
            for r in run_ids
            if status(client, r).get("worker_id") == "doomed"
            and status(client, r)["status"] == "RUNNING"
        }
        doomed.signal(signal.SIGKILL)
        ended = wait_all_terminal(client, run_ids, timeout=60)
    assert {run["status"] for run in ended.values()} == {"COMPLETED"}
    redelivered = [run for run in ended.values() if run["attempt"] >= 2]
    assert redelivered, "some runs were in flight on the killed worker"
    for run_id in on_doomed:
        run = ended[run_id]
        if run["worker_id"] == "survivor" and run["attempt"] >= 2:
            assert [a["status"] for a in run["attempts"]][-1] == "COMPLETED"
            assert "LOST" in [a["status"] for a in run["attempts"]]


def test_sigterm_during_a_run_exits_0_and_the_run_completes(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    worker = start_worker(worker_id="leaving")
    with gateway.client() as client:
        run_id = submit(client, flow_yaml("sleep_for"), params='{"seconds": 1.5}')
        wait_until(lambda: status(client, run_id)["status"] == "RUNNING", what="the run to start")
        worker.signal(signal.SIGTERM)
        assert worker.wait(30) == 0
        run = wait_terminal(client, run_id)
        assert run["status"] == "COMPLETED"
        assert run["attempt"] == 1
        record = workers(client)["leaving"]
    assert record["state"] == "STOPPED_GRACEFUL"
    assert record["stop_reason"] == "graceful_shutdown"
    assert record["current_run_ids"] == []


def test_sigterm_with_a_short_grace_hands_the_run_back_at_once(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    impatient = start_worker(worker_id="impatient", env={"PYOCO_WORKER_SHUTDOWN_GRACE_SEC": "0.5"})
    with gateway.client() as client:
        # Long enough to still be running once the other worker has started (seconds on a
        # loaded machine).
        run_id = submit(client, flow_yaml("sleep_for"), params='{"seconds": 8}')
        wait_until(lambda: status(client, run_id)["status"] == "RUNNING", what="the run to start")
        start_worker(worker_id="patient")
        impatient.signal(signal.SIGTERM)
        assert impatient.wait(30) == 0
        handed_back = time.monotonic()
        wait_until(
            lambda: status(client, run_id).get("worker_id") == "patient",
            10,
            "the run to move to the other worker",
        )
        assert time.monotonic() - handed_back < 2, "nak'ed, not left for the ack wait"
        run = wait_terminal(client, run_id)
    assert run["status"] == "COMPLETED"
    assert run["attempt"] == 2
    assert [a["status"] for a in run["attempts"]] == ["LOST", "COMPLETED"]


def test_max_deliveries_exhausted_fails_the_run_and_dead_letters_it(
    gateway: Gateway, start_worker: WorkerFactory, nats_server: NatsServer
) -> None:
    env = {"PYOCO_CONSUMER_MAX_DELIVER": "2"}
    with gateway.client() as client:
        run_id = submit(client, flow_yaml("kill_worker", defaults="{x: 1}"))
        # Each delivery kills the worker that takes it, as a supervisor restarts it.
        for name in ("first", "second"):
            assert start_worker(worker_id=name, env=env).wait(30) == -signal.SIGKILL
        # JetStream announces the exhausted job when a worker next asks for work.
        start_worker(worker_id="third", env=env)
        run = wait_terminal(client, run_id, timeout=30)
    assert run["status"] == "FAILED"
    assert run["error_reason"] == "max_deliveries_exceeded"
    letters = wait_until(lambda: dead_letters(nats_server.url))
    assert [(letter["reason"], letter["run_id"]) for letter in letters] == [
        ("max_deliveries_exceeded", run_id)
    ]


def test_registry_states_hidden_and_instances(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    with gateway.client() as client:
        assert client.get("/workers").json()["items"] == []
        first = start_worker(worker_id="w-reg")
        record = wait_until(lambda: workers(client).get("w-reg"))
        assert record["state"] == "IDLE"  # type: ignore[index]
        assert client.patch("/workers/w-reg", json={"hidden": True}).status_code == 200
        run_id = submit(client, flow_yaml("sleep_for"), params='{"seconds": 1.5}')
        running = wait_until(
            lambda: workers(client)["w-reg"]["state"] == "RUNNING" and workers(client)["w-reg"]
        )
        assert running["current_run_ids"] == [run_id]  # type: ignore[index]
        wait_terminal(client, run_id)

        first.signal(signal.SIGKILL)
        first.wait(10)
        disconnected = wait_until(
            lambda: (
                workers(client)["w-reg"]["state"] == "DISCONNECTED" and workers(client)["w-reg"]
            ),
            10,
            "the worker to show DISCONNECTED",
        )
        assert disconnected["hidden"] is True  # type: ignore[index]
        assert client.get("/workers").json()["items"] == []  # not active, and hidden

        start_worker(worker_id="w-reg")
        restarted = wait_until(
            lambda: workers(client)["w-reg"]["state"] == "IDLE" and workers(client)["w-reg"]
        )
    assert restarted["hidden"] is True  # type: ignore[index]
    assert restarted["instance_id"] != record["instance_id"]  # type: ignore[index]
    assert restarted["runs_completed"] == 0  # type: ignore[index]


async def _submit_many(url: str, count: int, concurrency: int) -> list[str]:
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def one() -> str:
            async with limit:
                response = await client.post(
                    "/runs/yaml",
                    files={"workflow": ("flow.yaml", FLOW_YAML)},
                    data={"flow_name": "main"},
                )
                assert response.status_code == 201
                return str(response.json()["run_id"])

        return await asyncio.gather(*(one() for _ in range(count)))


def test_500_runs_at_concurrency_32_on_two_workers_of_concurrency_4(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker(worker_id="a", args=["--concurrency", "4"])
    start_worker(worker_id="b", args=["--concurrency", "4"])
    run_ids = asyncio.run(_submit_many(gateway.url, 500, 32))
    with gateway.client() as client:
        ended = wait_all_terminal(client, run_ids, timeout=120)
    assert {run["status"] for run in ended.values()} == {"COMPLETED"}
    assert {run["worker_id"] for run in ended.values()} == {"a", "b"}
