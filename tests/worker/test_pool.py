"""ProcessPool with real run processes: outcomes, concurrency, crashes, cancel, timeout, shutdown.

Every test starts its own pool (the fork server is shared by the test process) and closes it in
a `finally`; every wait is on a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from pyoco_server.errors import RunAbandoned
from pyoco_server.messages import Job
from pyoco_server.snapshot import FailureReason, RunStatus, TaskState
from pyoco_worker.child import _Channel
from pyoco_worker.execution import Outcome, Progress, RunControl, StopReason
from pyoco_worker.pool import KILL_AFTER_SEC, ProcessPool
from tests.e2e.test_runtime import flow, pid_alive

T = TypeVar("T")
GRACE = 0.5
"""Cancel grace period of the pools under test."""


def run(coroutine: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def job(*tasks: str, **params: object) -> Job:
    """A job running `tasks` of _workflow_test_tasks in sequence, with `params`."""
    return Job(
        run_id=f"run-{uuid.uuid4().hex[:8]}",
        flow_name="main",
        tag="default",
        tags=("default",),
        params=params,
        submitted_at=time.time(),
        workflow_yaml=flow(*tasks).decode(),
    )


@contextlib.asynccontextmanager
async def started_pool(
    size: int = 1, *, flush_interval: float = 0.05
) -> AsyncIterator[ProcessPool]:
    pool = ProcessPool(
        size, flush_interval=flush_interval, cancel_grace_sec=GRACE, start_method="forkserver"
    )
    try:
        await pool.start()
        yield pool
    finally:
        await pool.close()


async def eventually(predicate: Callable[[], T], timeout: float = 10.0, what: str = "") -> T:
    """Poll `predicate` on the loop until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or predicate}")
        await asyncio.sleep(0.01)
    return value


def pid_in(path: Path) -> int | None:
    """The pid `sleep_for` wrote to `path`, once it is there."""
    text = path.read_text() if path.exists() else ""
    return int(text) if text else None


async def started_task(pid_file: Path) -> int:
    """The pid `sleep_for` writes to `pid_file` once its task has started."""
    pid = await eventually(lambda: pid_in(pid_file), 30, "the task to start")
    assert pid is not None
    return pid


async def execute(pool: ProcessPool, for_job: Job, control: RunControl | None = None) -> Outcome:
    return await pool.execute(for_job, lambda progress: None, control or RunControl())


async def task_pid(pool: ProcessPool, tmp_path: Path) -> int:
    """The pid of the run process that runs the next job of `pool` (pool of one)."""
    pid_file = tmp_path / f"{uuid.uuid4().hex}.pid"
    outcome = await execute(pool, job("sleep_for", seconds=0, pid_file=str(pid_file)))
    assert outcome.status is RunStatus.COMPLETED, outcome.error
    pid = pid_in(pid_file)
    assert pid is not None
    return pid


def test_a_run_completes_with_its_outputs() -> None:
    async def scenario() -> Outcome:
        async with started_pool() as pool:
            return await execute(pool, job("add_one", "to_text", x=41))

    outcome = run(scenario())

    assert outcome.status is RunStatus.COMPLETED
    assert (outcome.error, outcome.reason) == (None, None)
    assert outcome.tasks == {"add_one": TaskState.SUCCEEDED, "to_text": TaskState.SUCCEEDED}
    assert outcome.records["add_one"].output == 42
    assert outcome.records["add_one"].inputs == {"x": 41}
    assert outcome.records["to_text"].output == "42"


def test_runs_execute_in_a_warm_child_that_is_kept_after_a_clean_end(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, Outcome, int]:
        async with started_pool() as pool:
            first = await task_pid(pool, tmp_path)
            failed = await execute(pool, job("fail", x=3))
            after = await task_pid(pool, tmp_path)
            return first, failed, after

    first, failed, after = run(scenario())

    assert first != os.getpid()
    assert failed.status is RunStatus.FAILED
    assert failed.reason is FailureReason.EXECUTION_ERROR
    assert failed.error == "ValueError: boom: x was 3"
    assert after == first, "a run whose task raised leaves its process reusable"


def test_two_runs_execute_at_once_on_a_pool_of_two(tmp_path: Path) -> None:
    async def scenario() -> list[Outcome]:
        async with started_pool(2) as pool:
            return list(
                await asyncio.gather(
                    *(
                        execute(
                            pool, job("sleep_for", seconds=0.5, pid_file=str(tmp_path / f"{i}"))
                        )
                        for i in range(2)
                    )
                )
            )

    outcomes = run(scenario())

    assert [outcome.status for outcome in outcomes] == [RunStatus.COMPLETED] * 2
    spans = [
        (outcome.records["sleep_for"].started_at, outcome.records["sleep_for"].ended_at)
        for outcome in outcomes
    ]
    starts = [start for start, _ in spans if start is not None]
    ends = [end for _, end in spans if end is not None]
    assert len(starts) == len(ends) == 2
    assert max(starts) < min(ends), f"the runs did not overlap: {spans}"
    assert pid_in(tmp_path / "0") != pid_in(tmp_path / "1")


def test_a_task_that_exits_its_process_fails_only_its_run(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, Outcome, int, Outcome]:
        async with started_pool() as pool:
            before = await task_pid(pool, tmp_path)
            crashed = await execute(pool, job("add_one", "crash", x=1))
            after = await task_pid(pool, tmp_path)
            await eventually(lambda: not pid_alive(before), 10, "the crashed process to be gone")
            next_run = await execute(pool, job("add_one", "to_text", x=1))
            return before, crashed, after, next_run

    before, crashed, after, next_run = run(scenario())

    assert crashed.status is RunStatus.FAILED
    assert crashed.reason is FailureReason.CRASHED
    assert crashed.error is not None
    assert "exit code 1" in crashed.error
    assert "while running crash" in crashed.error
    assert crashed.tasks == {"add_one": TaskState.SUCCEEDED, "crash": TaskState.FAILED}
    assert crashed.records["crash"].state is TaskState.FAILED
    assert after != before, "the crashed process was replaced"
    assert next_run.status is RunStatus.COMPLETED


def test_the_crashed_task_record_says_when_and_why() -> None:
    async def scenario() -> Outcome:
        async with started_pool(flush_interval=30.0) as pool:
            return await execute(pool, job("add_one", "crash", x=1))

    crashed = run(scenario())

    record = crashed.records["crash"]
    assert record.state is TaskState.FAILED
    assert record.ended_at is not None
    assert record.error == crashed.error


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


def test_progress_arrives_while_a_run_lasts_longer_than_the_flush_interval() -> None:
    seen: list[tuple[bool, Progress]] = []
    finished = False

    def on_progress(progress: Progress) -> None:
        seen.append((finished, progress))

    async def scenario() -> Outcome:
        nonlocal finished
        async with started_pool(flush_interval=0.05) as pool:
            outcome = await pool.execute(
                job("add_one", "sleep_for", "to_text", x=1, seconds=0.3), on_progress, RunControl()
            )
            finished = True
            return outcome

    outcome = run(scenario())

    assert outcome.status is RunStatus.COMPLETED
    assert seen, "no progress for a run of 0.3s with a flush interval of 0.05s"
    assert not any(after_end for after_end, _ in seen)
    during_sleep = [
        progress
        for _, progress in seen
        if progress.tasks.get("add_one") is TaskState.SUCCEEDED
        and progress.tasks.get("sleep_for") is TaskState.RUNNING
    ]
    assert during_sleep, f"never saw add_one done while sleep_for ran: {seen}"
    assert during_sleep[0].records["add_one"].output == 2


def test_a_run_shorter_than_the_flush_interval_reports_no_progress() -> None:
    seen: list[Progress] = []

    async def scenario() -> Outcome:
        async with started_pool(flush_interval=30.0) as pool:
            return await pool.execute(job("add_one", "to_text", x=1), seen.append, RunControl())

    outcome = run(scenario())

    assert outcome.status is RunStatus.COMPLETED
    assert seen == []


def test_a_pool_needs_at_least_one_process() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ProcessPool(0)


class _RecordingPipe:
    def __init__(self) -> None:
        self.sent: list[tuple[object, ...]] = []

    def send(self, message: tuple[object, ...]) -> None:
        self.sent.append(message)


class _StubExecution:
    def progress(self) -> str:
        return "the progress"

    def task_states(self) -> dict[str, str]:
        return {"a": "RUNNING"}

    def cancel(self) -> None:
        pass


def test_a_progress_reply_names_its_run_and_never_follows_the_end() -> None:
    pipe = _RecordingPipe()
    channel = _Channel(pipe, ctypes.create_string_buffer(64))  # type: ignore[arg-type]
    channel.begin("run-1", _StubExecution())  # type: ignore[arg-type]

    channel.send_progress("run-1")  # nothing changed yet
    channel.mark_changed()
    channel.send_progress("run-1")
    channel.mark_changed()
    channel.end()
    channel.send_progress("run-1")  # asked while the run ended: nothing may follow the end

    assert pipe.sent == [("progress", "run-1", "the progress")]
