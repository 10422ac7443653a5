"""A run being stopped says so: CANCELLING with why and by when, then its end, on time.

The task sleeps and ignores both pyoco's cancel and SIGTERM (a run process takes SIGTERM
without dying), so the worker's escalation runs to its end: the kill at `stopping.deadline_at`,
the cancel grace period plus a second after the stop began.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.support.flows import flow_yaml
from tests.support.processes import Gateway, WorkerFactory
from tests.support.runs import status, submit
from tests.support.waiting import wait_terminal, wait_until

GRACE = 2.0
KILL_AFTER = 1.0
"""SIGKILL follows SIGTERM by this much (pool.KILL_AFTER_SEC)."""
MARGIN = 1.5
"""What the snapshot writes and the test's polling may add."""


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "PYOCO_CANCEL_GRACE_PERIOD_SEC": str(GRACE)}


def stopping_seen(client: httpx.Client, run_id: str) -> dict[str, object]:
    """The run's snapshot once it is CANCELLING with a deadline (failing if it ends first)."""

    def stopping() -> dict[str, object] | None:
        run = status(client, run_id)
        assert run["status"] in ("RUNNING", "CANCELLING"), run
        marked = run.get("stopping") or {}
        assert isinstance(marked, dict)
        return run if marked.get("deadline_at") is not None else None

    return wait_until(stopping, 10, f"run {run_id} to show its stop")  # type: ignore[return-value]


def started(pid_file: Path) -> None:
    wait_until(lambda: pid_file.exists() and pid_file.read_text(), 30, "the task to start")


def test_a_timed_out_run_shows_cancelling_then_fails_when_its_deadline_comes(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker(args=["--concurrency", "1"])
    pid_file = tmp_path / "task.pid"
    params = f'{{"seconds": 3600, "pid_file": "{pid_file}"}}'
    with gateway.client() as client:
        run_id = submit(client, flow_yaml("sleep_for"), params=params, timeout_sec="2")
        started(pid_file)

        stopping = stopping_seen(client, run_id)
        marked = stopping["stopping"]
        assert isinstance(marked, dict)
        assert stopping["status"] == "CANCELLING"
        assert marked["reason"] == "timeout"
        start = float(stopping["start_time"])  # type: ignore[arg-type]
        assert 2.0 <= marked["since"] - start < 2.0 + MARGIN
        assert marked["deadline_at"] == pytest.approx(marked["since"] + GRACE + KILL_AFTER, abs=0.2)
        assert stopping["cancel_requested_at"] is None

        run = wait_terminal(client, run_id, timeout=GRACE + KILL_AFTER + 10)
        ended_late = float(run["end_time"]) - marked["deadline_at"]  # type: ignore[arg-type]

    assert (run["status"], run["error_reason"]) == ("FAILED", "timeout")
    assert run["stopping"] == marked, "the stop is kept with the end"
    assert -0.5 < ended_late < MARGIN, f"ended {ended_late:.2f}s after its deadline"


def test_a_cancelled_run_gets_its_deadline_from_the_worker_and_ends_by_it(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker(args=["--concurrency", "1"])
    pid_file = tmp_path / "task.pid"
    params = f'{{"seconds": 3600, "pid_file": "{pid_file}"}}'
    with gateway.client() as client:
        run_id = submit(client, flow_yaml("sleep_for"), params=params)
        started(pid_file)

        asked = time.time()
        answer = client.post(f"/runs/{run_id}/cancel", json={"reason": "enough"}).json()
        assert answer["status"] == "CANCELLING"
        assert answer["stopping"]["reason"] == "cancel"
        assert answer["stopping"]["since"] == answer["cancel_requested_at"]
        assert answer["stopping"].get("deadline_at") is None, "the worker sets it"

        marked = stopping_seen(client, run_id)["stopping"]
        assert isinstance(marked, dict)
        assert (marked["reason"], marked["since"]) == ("cancel", answer["cancel_requested_at"])
        assert 0 < marked["deadline_at"] - asked < GRACE + KILL_AFTER + MARGIN

        run = wait_terminal(client, run_id, timeout=GRACE + KILL_AFTER + 10)
        ended_late = float(run["end_time"]) - marked["deadline_at"]  # type: ignore[arg-type]

    assert (run["status"], run["error_reason"]) == ("CANCELLED", "cancelled")
    assert -0.5 < ended_late < MARGIN, f"ended {ended_late:.2f}s after its deadline"
