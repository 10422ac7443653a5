"""Signals to a worker with real processes: a second SIGTERM exits at once and loses no run."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.support.flows import flow_yaml
from tests.support.processes import Gateway, WorkerFactory, pid_alive
from tests.support.runs import status, submit
from tests.support.waiting import wait_terminal, wait_until


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "PYOCO_CONSUMER_ACK_WAIT_SEC": "2"}


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (children of each of its threads, recursively)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                pids = [int(child) for child in children.read_text().split()]
            except OSError:
                continue  # the thread or process ended meanwhile
            for child in pids:
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def read_pid(path: Path) -> int | None:
    text = path.read_text() if path.exists() else ""
    return int(text) if text else None


def test_a_second_sigterm_exits_at_once_and_the_run_is_redelivered(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    pid_file = tmp_path / "task.pid"
    first = start_worker(worker_id="first", args=["--concurrency", "1"])
    with gateway.client() as client:
        run_id = submit(
            client,
            flow_yaml("sleep_for"),
            params=json.dumps({"seconds": 4, "pid_file": str(pid_file)}),
        )
        task_pid = wait_until(lambda: read_pid(pid_file), 30, "the task to start")
        assert isinstance(task_pid, int)
        assert status(client, run_id)["status"] == "RUNNING"
        family = descendants(first.pid)
        assert task_pid in family, f"the run's process {task_pid} is not below the worker"

        first.signal(signal.SIGTERM)
        wait_until(lambda: "send it again to exit at once" in first.log(), 10, "the first SIGTERM")
        asked = time.monotonic()
        first.signal(signal.SIGTERM)
        code = first.wait(10)
        took = time.monotonic() - asked

        assert code == 1, first.log()
        assert took < 2, f"the second SIGTERM took {took:.1f}s to end the worker"
        assert "second SIGTERM: exiting now" in first.log()
        wait_until(
            lambda: not any(pid_alive(pid) for pid in family),
            10,
            f"the worker's processes {sorted(family)} to be gone",
        )
        assert status(client, run_id)["status"] == "RUNNING", "nobody recorded an end"

        pid_file.unlink()
        start_worker(worker_id="second", args=["--concurrency", "1"])
        run = wait_terminal(client, run_id, timeout=30)

    assert run["status"] == "COMPLETED"
    assert run["attempt"] == 2
    assert run["worker_id"] == "second"
    attempts = run["attempts"]
    assert isinstance(attempts, list)
    assert [attempt["status"] for attempt in attempts] == ["LOST", "COMPLETED"]
    assert read_pid(pid_file) not in (None, task_pid)
