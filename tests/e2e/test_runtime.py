"""The worker runtime with real processes: isolation, cancel, timeouts, retries, crashes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from pyoco_server import heap
from pyoco_server.domain.settings import Settings
from pyoco_server.local.natsserver import NatsServer
from tests.support.flows import flow_yaml
from tests.support.nats import dead_letters
from tests.support.processes import Gateway, WorkerFactory, pid_alive, start_gateway
from tests.support.runs import status, submit
from tests.support.waiting import wait_terminal, wait_until


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {
        **settings_env,
        "PYOCO_CONSUMER_ACK_WAIT_SEC": "2",
        "PYOCO_CANCEL_GRACE_PERIOD_SEC": "1",
        "PYOCO_WORKER_HEARTBEAT_INTERVAL_SEC": "0.5",
        "PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC": "2",
        "PYOCO_RUN_HEARTBEAT_INTERVAL_SEC": "0.5",
    }


def test_cancel_stops_a_task_stuck_in_sleep_and_kills_its_process(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    worker = start_worker(args=["--concurrency", "1"])
    pid_file = tmp_path / "task.pid"
    with gateway.client() as client:
        run_id = submit(
            client,
            flow_yaml("sleep_for"),
            params=f'{{"seconds": 3600, "pid_file": "{pid_file}"}}',
        )
        wait_until(lambda: pid_file.exists() and pid_file.read_text(), what="the task to start")
        task_pid = int(pid_file.read_text())
        assert status(client, run_id)["status"] == "RUNNING"

        asked = time.monotonic()
        response = client.post(f"/runs/{run_id}/cancel", json={"reason": "no longer needed"})
        assert response.status_code == 200
        assert response.json()["status"] == "CANCELLING"
        run = wait_terminal(client, run_id, timeout=10)
        took = time.monotonic() - asked

        assert run["status"] == "CANCELLED"
        assert took < 1 + 2, f"cancel took {took:.1f}s (grace 1s)"
        assert run["cancel_reason"] == "no longer needed"
        assert str(run["cancel_requested_by"]).startswith("address:")
        assert run["tasks"] == {"sleep_for": "CANCELLED"}
        wait_until(lambda: not pid_alive(task_pid), 5, "the run's process to be gone")

        again = client.post(f"/runs/{run_id}/cancel").json()
        assert again["status"] == "CANCELLED"
        assert again["cancel_requested_at"] == run["cancel_requested_at"]

        assert (
            wait_terminal(
                client, submit(client, flow_yaml("add_one", "to_text"), params='{"x": 1}')
            )["status"]
            == "COMPLETED"
        )
    assert worker.alive()


def test_cancel_of_a_pending_run_never_runs_it(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    with gateway.client() as client:
        run_id = submit(client, flow_yaml("add_one"), params='{"x": 1}')
        cancelled = client.post(f"/runs/{run_id}/cancel").json()
        assert cancelled["status"] == "CANCELLED"
        assert cancelled["error_reason"] == "cancelled"
        start_worker()
        done = wait_terminal(client, submit(client, flow_yaml("add_one"), params='{"x": 1}'))
        assert done["status"] == "COMPLETED"
        final = status(client, run_id)
    assert final["status"] == "CANCELLED"
    assert final["attempts"] == []
    assert final["tasks"] == {}


def test_a_task_that_exits_its_process_fails_only_its_run(
    gateway: Gateway, start_worker: WorkerFactory, nats_server: NatsServer
) -> None:
    worker = start_worker(args=["--concurrency", "1"])
    with gateway.client() as client:
        run = wait_terminal(
            client, submit(client, flow_yaml("add_one", "crash", defaults="{x: 1}"))
        )
        assert run["status"] == "FAILED"
        assert run["error_reason"] == "crashed"
        assert "exit code 1" in str(run["error"])
        assert "crash" in str(run["error"])
        assert run["tasks"] == {"add_one": "SUCCEEDED", "crash": "FAILED"}
        after = wait_terminal(client, submit(client, flow_yaml("add_one", defaults="{x: 1}")))
        assert after["status"] == "COMPLETED"
    assert worker.alive()
    letters = wait_until(lambda: dead_letters(nats_server.url))
    assert [(letter["reason"], letter["run_id"]) for letter in letters] == [
        ("execution_error", run["run_id"])
    ]


def test_timeout_fails_the_run_through_the_same_escalation(
    gateway: Gateway, start_worker: WorkerFactory, nats_server: NatsServer
) -> None:
    start_worker(args=["--concurrency", "1"])
    with gateway.client() as client:
        started = time.monotonic()
        run_id = submit(client, flow_yaml("sleep_for"), params='{"seconds": 3600}', timeout_sec="1")
        run = wait_terminal(client, run_id, timeout=15)
        took = time.monotonic() - started
    assert run["status"] == "FAILED"
    assert run["error_reason"] == "timeout"
    assert "timeout of 1s" in str(run["error"])
    assert took < 1 + 1 + 3
    assert run["timeout_sec"] == 1
    letters = wait_until(lambda: dead_letters(nats_server.url))
    assert letters[0]["reason"] == "timeout"


def test_retry_policy_runs_a_flaky_run_again_and_records_every_attempt(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker()
    retry = '{"max_attempts": 3, "backoff_sec": 0.2}'
    with gateway.client() as client:
        flaky = submit(
            client,
            flow_yaml("flaky"),
            retry=retry,
            params=f'{{"counter_file": "{tmp_path / "a"}", "failures": 2}}',
        )
        hopeless = submit(
            client,
            flow_yaml("flaky"),
            retry=retry,
            params=f'{{"counter_file": "{tmp_path / "b"}", "failures": 99}}',
        )
        recovered = wait_terminal(client, flaky, timeout=30)
        failed = wait_terminal(client, hopeless, timeout=30)
    assert recovered["status"] == "COMPLETED"
    assert recovered["task_records"]["flaky"]["output"] == 3  # type: ignore[index]
    assert [a["status"] for a in recovered["attempts"]] == ["FAILED", "FAILED", "COMPLETED"]  # type: ignore[union-attr]
    assert [a["attempt"] for a in recovered["attempts"]] == [1, 2, 3]  # type: ignore[union-attr]
    assert "flaky failure 1 of 2" in recovered["attempts"][0]["error"]  # type: ignore[index]
    assert failed["status"] == "FAILED"
    assert [a["status"] for a in failed["attempts"]] == ["FAILED"] * 3  # type: ignore[union-attr]
    assert failed["error_reason"] == "execution_error"


def test_retry_above_max_deliver_is_refused(settings: Settings, tmp_path: Path) -> None:
    gateway = start_gateway(settings, tmp_path, PYOCO_CONSUMER_MAX_DELIVER="5")
    try:
        with gateway.client() as client:
            response = client.post(
                "/runs", json={"flow_name": "main", "retry": {"max_attempts": 10}}
            )
    finally:
        gateway.process.stop()
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "PYOCO_CONSUMER_MAX_DELIVER" in response.json()["detail"]


def test_a_worker_under_a_deep_tmpdir_starts_and_its_runs_keep_that_tmpdir(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    """The fork server's socket cannot live under a TMPDIR this long; the worker still starts."""
    deep = tmp_path / ("d" * 60) / ("e" * 40)
    deep.mkdir(parents=True)
    assert len(str(deep)) + len("/pymp-12345678/listener-12345678") > 107
    start_worker(env={"TMPDIR": str(deep)})
    with gateway.client() as client:
        run = wait_terminal(client, submit(client, flow_yaml("temp_dir")))
    assert run["status"] == "COMPLETED", run
    assert run["task_records"]["temp_dir"]["output"] == str(deep), run  # type: ignore[index]


def test_a_run_process_keeps_what_it_was_forked_with_out_of_every_collection(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    """pyoco_server/heap.py in a run process: what it inherited is frozen, and its young
    generation is collected at the raised threshold."""
    start_worker()
    with gateway.client() as client:
        run = wait_terminal(client, submit(client, flow_yaml("collector_settings")))
    assert run["status"] == "COMPLETED", (run["error"], run.get("task_records"))
    found = run["task_records"]["collector_settings"]["output"]  # type: ignore[index]
    assert found["young_threshold"] == heap.YOUNG_THRESHOLD, found
    assert found["frozen"] > 10_000, found  # pyoco and the worker's modules, at least


@pytest.mark.parametrize("script", [False, True], ids=["python -m", "console script"])
def test_a_run_process_imports_none_of_the_workers_supervisor_side(
    gateway: Gateway, start_worker: WorkerFactory, script: bool
) -> None:
    """multiprocessing imports the worker's main module again in each run process; that module
    (cli.py) must not bring NATS, uvloop or the supervisor in with it. Started either way, the
    worker runs task modules of its working directory (tests.support.tasks here)."""
    supervisor_side = [
        "nats",
        "uvloop",
        "pyoco_server.jetstream",
        "pyoco_server.services",
        "pyoco_worker.worker",
        "pyoco_worker.pool",
        "pyoco_worker.service",
    ]
    start_worker(script=script)  # its task module, tests.support.tasks, is in its directory
    names = json.dumps({"names": ["pyoco_worker.child", *supervisor_side]})
    with gateway.client() as client:
        run = wait_terminal(client, submit(client, flow_yaml("loaded_modules"), params=names))
    assert run["status"] == "COMPLETED", (run["error"], run.get("task_records"))
    assert run["task_records"]["loaded_modules"]["output"] == ["pyoco_worker.child"]  # type: ignore[index]
