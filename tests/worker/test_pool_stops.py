"""ProcessPool stopping runs: cancels (with the grace period), timeouts and the worker's shutdown.

Each run that is stopped sleeps in a real run process, which must be gone afterwards.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from pyoco_server.domain.errors import RunAbandoned
from pyoco_server.domain.snapshot import FailureReason, RunStatus, TaskState
from pyoco_worker.execution import Outcome, RunControl, StopReason
from pyoco_worker.pool import KILL_AFTER_SEC
from tests.support.pool import (
    GRACE,
    eventually,
    execute,
    job,
    pid_in,
    run,
    started_pool,
    started_task,
)
from tests.support.processes import pid_alive


def test_cancel_stops_a_task_stuck_in_sleep_and_kills_its_process(tmp_path: Path) -> None:
    pid_file = tmp_path / "task.pid"

    async def scenario() -> tuple[Outcome, float, int, Outcome]:
        async with started_pool() as pool:
            control = RunControl()
            running = asyncio.create_task(
                execute(pool, job("sleep_for", seconds=3600, pid_file=str(pid_file)), control)
            )
            pid = await started_task(pid_file)
            asked = time.monotonic()
            control.stop(StopReason.CANCEL)
            outcome = await running
            took = time.monotonic() - asked
            await eventually(lambda: not pid_alive(pid), 10, "the run's process to be gone")
            after = await execute(pool, job("add_one", x=1))
            return outcome, took, pid, after

    outcome, took, pid, after = run(scenario())

    assert outcome.status is RunStatus.CANCELLED
    assert outcome.reason is FailureReason.CANCELLED
    assert outcome.error is None
    assert outcome.tasks == {"sleep_for": TaskState.CANCELLED}
    assert outcome.records["sleep_for"].state is TaskState.CANCELLED
    assert took < GRACE + 2, f"cancel took {took:.2f}s with a grace of {GRACE}s"
    assert pid != os.getpid()
    assert after.status is RunStatus.COMPLETED, "the pool replaced the killed process"


def test_cancel_before_the_run_starts_runs_no_task(tmp_path: Path) -> None:
    pid_file = tmp_path / "task.pid"

    async def scenario() -> Outcome:
        async with started_pool() as pool:
            control = RunControl()
            control.stop(StopReason.CANCEL)
            return await execute(
                pool, job("sleep_for", seconds=3600, pid_file=str(pid_file)), control
            )

    outcome = run(scenario())

    assert outcome.status is RunStatus.CANCELLED
    assert outcome.reason is FailureReason.CANCELLED
    assert not pid_file.exists(), "the task started although the run was cancelled first"


def test_a_timeout_fails_the_run(tmp_path: Path) -> None:
    pid_file = tmp_path / "task.pid"

    async def scenario() -> tuple[Outcome, float, int]:
        async with started_pool() as pool:
            started = time.monotonic()
            outcome = await execute(
                pool,
                job("sleep_for", seconds=3600, pid_file=str(pid_file)),
                RunControl(timeout_sec=0.5),
            )
            took = time.monotonic() - started
            pid = pid_in(pid_file)
            assert pid is not None
            await eventually(lambda: not pid_alive(pid), 10, "the run's process to be gone")
            return outcome, took, pid

    outcome, took, _ = run(scenario())

    assert outcome.status is RunStatus.FAILED
    assert outcome.reason is FailureReason.TIMEOUT
    assert outcome.error == "the run exceeded its timeout of 0.5s and was stopped"
    assert outcome.tasks == {"sleep_for": TaskState.CANCELLED}
    assert 0.5 <= took < 0.5 + GRACE + KILL_AFTER_SEC + 2


def test_a_run_that_ends_before_its_timeout_is_not_affected() -> None:
    async def scenario() -> Outcome:
        async with started_pool() as pool:
            return await execute(pool, job("add_one", x=1), RunControl(timeout_sec=30))

    outcome = run(scenario())

    assert outcome.status is RunStatus.COMPLETED


def test_shutdown_abandons_the_run_and_kills_its_process(tmp_path: Path) -> None:
    pid_file = tmp_path / "task.pid"

    async def scenario() -> tuple[BaseException | None, float, int]:
        async with started_pool() as pool:
            control = RunControl()
            running = asyncio.create_task(
                execute(pool, job("sleep_for", seconds=3600, pid_file=str(pid_file)), control)
            )
            pid = await started_task(pid_file)
            asked = time.monotonic()
            control.stop(StopReason.SHUTDOWN)
            error: BaseException | None = None
            try:
                await running
            except RunAbandoned as exc:
                error = exc
            took = time.monotonic() - asked
            await eventually(lambda: not pid_alive(pid), 10, "the run's process to be gone")
            return error, took, pid

    error, took, _ = run(scenario())

    assert isinstance(error, RunAbandoned)
    assert "shutdown" in str(error)
    assert took < 2, "a shutdown kills at once, without the cancel grace period"


def test_shutdown_overrides_a_cancel_in_progress(tmp_path: Path) -> None:
    pid_file = tmp_path / "task.pid"

    async def scenario() -> None:
        async with started_pool() as pool:
            control = RunControl()
            running = asyncio.create_task(
                execute(pool, job("sleep_for", seconds=3600, pid_file=str(pid_file)), control)
            )
            await started_task(pid_file)
            control.stop(StopReason.CANCEL)
            control.stop(StopReason.SHUTDOWN)
            await running

    with pytest.raises(RunAbandoned):
        run(scenario())
