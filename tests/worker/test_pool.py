"""ProcessPool with real run processes: outcomes, warm processes, concurrency, crashes, progress.

Cancels, timeouts and shutdowns are in test_pool_stops.py; the pools come from
tests/support/pool.py.
"""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import os
from pathlib import Path

import pytest

from pyoco_server.domain.snapshot import FailureReason, RunStatus, TaskState
from pyoco_worker.child import _Channel
from pyoco_worker.engine import JobExecution
from pyoco_worker.execution import Outcome, Progress, RunControl
from pyoco_worker.flows import FlowSource
from pyoco_worker.pool import ProcessPool
from pyoco_worker.protocol import ProgressReport, decode_from_child
from tests.support.pool import (
    eventually,
    execute,
    job,
    pid_in,
    run,
    started_pool,
    task_pid,
)
from tests.support.processes import pid_alive


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


def test_a_job_pickle_cannot_carry_fails_at_once_and_its_process_stays(tmp_path: Path) -> None:
    """Params nested past pickle's recursion limit, from a job no gateway checked.

    The run fails with the reason, at its first delivery; before, the pickling error escaped
    the pool, the process was replaced, and the job came back until its deliveries ran out.
    """
    deep: object = 1
    for _ in range(5000):
        deep = [deep]

    async def scenario() -> tuple[int, Outcome, int]:
        async with started_pool() as pool:
            first = await task_pid(pool, tmp_path)
            refused = await execute(pool, job("add_one", x=deep))
            after = await task_pid(pool, tmp_path)
            return first, refused, after

    first, refused, after = run(scenario())

    assert refused.status is RunStatus.FAILED
    assert refused.reason is FailureReason.EXECUTION_ERROR
    assert "could not be handed to a run process (RecursionError" in str(refused.error)
    assert (refused.tasks, refused.records) == ({}, {})
    assert after == first, "nothing reached the run process: it runs the next job"


def test_a_run_process_never_runs_another_tenants_run(tmp_path: Path) -> None:
    """Task code may leave threads behind in its process: they must not see another tenant."""

    async def scenario() -> list[int]:
        async with started_pool() as pool:
            return [
                await task_pid(pool, tmp_path, tenant)
                for tenant in ("acme", "acme", "globex", "globex", "acme")
            ]

    acme, acme_again, globex, globex_again, acme_later = run(scenario())

    assert acme == acme_again
    assert globex == globex_again != acme
    assert acme_later not in (acme, globex)


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


def test_a_crash_is_seen_at_once_though_a_fork_holds_the_pipes_open() -> None:
    """A task forks a process that lives a minute, holding the pipes, then its process dies.

    Before, the death was seen only when the fork ended (a minute here; never for a fork that
    does not end); now when the fork server says the run process exited.
    """

    async def scenario() -> tuple[Outcome, float]:
        async with started_pool() as pool:
            started = asyncio.get_running_loop().time()
            crashed = await asyncio.wait_for(execute(pool, job("fork_then_die", seconds=60)), 30)
            return crashed, asyncio.get_running_loop().time() - started

    crashed, took = run(scenario())

    assert crashed.status is RunStatus.FAILED
    assert crashed.reason is FailureReason.CRASHED
    assert crashed.error is not None
    assert "exit code 3" in crashed.error, crashed.error
    assert took < 20, f"the crash was seen after {took:.1f}s"


def test_the_crashed_task_record_says_when_and_why() -> None:
    async def scenario() -> Outcome:
        async with started_pool(flush_interval=30.0) as pool:
            return await execute(pool, job("add_one", "crash", x=1))

    crashed = run(scenario())

    record = crashed.records["crash"]
    assert record.state is TaskState.FAILED
    assert record.ended_at is not None
    assert record.error == crashed.error


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


def test_a_progress_reply_names_its_run_and_never_follows_the_end() -> None:
    execution = JobExecution(FlowSource(None), job("add_one", x=1), lambda _task: None)
    assert execution.run().status is RunStatus.COMPLETED
    received, sent = multiprocessing.Pipe(duplex=False)
    channel = _Channel(sent, ctypes.create_string_buffer(64))
    channel.begin("run-1", execution)

    channel.send_progress("run-1")  # nothing changed yet
    channel.mark_changed()
    channel.send_progress("run-1")
    channel.mark_changed()
    channel.end()
    channel.send_progress("run-1")  # asked while the run ended: nothing may follow the end

    replies = []
    while received.poll(0.1):
        replies.append(decode_from_child(received.recv_bytes()))
    assert replies == [ProgressReport("run-1", execution.progress())]
