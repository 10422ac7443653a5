"""JobRunner while a run is being stopped: CANCELLING with `stopping`, then the end.

The executor is a fake; what a real one does is played in `during_run`: it asks the run to stop
(`RunControl.stop`) and says within how long its process is gone (`stopping_within`). The
store's writes and queue actions are logged in order (see tests/support/runner.py).
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from pyoco_server.domain.records import DeadLetterReason, RetryPolicy
from pyoco_server.domain.snapshot import (
    FailureReason,
    RunSnapshot,
    RunStatus,
    RunStopping,
)
from pyoco_server.domain.states import StopReason as Stopping
from pyoco_worker.execution import ProgressCallback, StopReason
from tests.support.fakes import failed
from tests.support.runner import RunnerHarness, runner_harness
from tests.support.samples import A_JOB, NOW, RUN_ID

TIMED_OUT = failed(FailureReason.TIMEOUT, "the run exceeded its timeout of 2s and was stopped")
CANCELLED = dataclasses.replace(
    failed(FailureReason.CANCELLED, ""), status=RunStatus.CANCELLED, error=None
)
KILL_WITHIN = 3.0
TIMED_JOB = dataclasses.replace(A_JOB, timeout_sec=2.0)


async def written(h: RunnerHarness, status: RunStatus) -> RunSnapshot:
    """The run's snapshot once `status` is stored (the writer writes in the background)."""
    for _ in range(1000):
        current = h.store.current(RUN_ID)
        if current is not None and current.status is status:
            return current
        await asyncio.sleep(0)
    raise AssertionError(f"{status} was never written: {h.log}")


def stops(h: RunnerHarness, reason: StopReason, seen: list[RunSnapshot]) -> None:
    """Let the executor stop the run for `reason`, and keep the CANCELLING snapshot it led to."""

    async def stop(on_progress: ProgressCallback) -> None:
        control = h.runner.active[RUN_ID].control
        control.stop(reason)
        control.stopping_within(KILL_WITHIN)
        seen.append(await written(h, RunStatus.CANCELLING))

    h.executor.during_run = stop


def test_a_timeout_shows_cancelling_with_its_deadline_then_fails_the_run() -> None:
    h = runner_harness(RunSnapshot.pending(TIMED_JOB), outcome=TIMED_OUT)
    seen: list[RunSnapshot] = []
    stops(h, StopReason.TIMEOUT, seen)

    status = h.handle(TIMED_JOB)

    assert status is RunStatus.FAILED
    assert seen[0].stopping == RunStopping(Stopping.TIMEOUT, NOW, NOW + KILL_WITHIN)
    assert h.log == [
        "write RUNNING",
        "execute",
        "write CANCELLING",
        "dead letter timeout",
        "write FAILED",
        "ack",
    ]
    final = h.store.current(RUN_ID)
    assert (final.error_reason, final.stopping) == ("timeout", seen[0].stopping)
    assert [letter.reason for letter in h.dead_letters.letters] == [DeadLetterReason.TIMEOUT]


def test_a_cancel_gets_the_workers_deadline_and_keeps_the_gateways_reason_and_time() -> None:
    asked = RunSnapshot.pending(A_JOB).claimed("w1", 1, 50.0).cancel_requested(60.0, "al", "x")
    h = runner_harness(RunSnapshot.pending(A_JOB), outcome=CANCELLED)
    seen: list[RunSnapshot] = []

    async def cancel(on_progress: ProgressCallback) -> None:
        h.store.put(
            dataclasses.replace(
                h.store.current(RUN_ID),
                status=RunStatus.CANCELLING,
                cancel_requested_at=60.0,
                stopping=asked.stopping,
            )
        )
        assert h.runner.stop(RUN_ID, StopReason.CANCEL)
        h.runner.active[RUN_ID].control.stopping_within(KILL_WITHIN)
        for _ in range(1000):
            current = h.store.current(RUN_ID)
            if current.stopping is not None and current.stopping.deadline_at is not None:
                seen.append(current)
                return
            await asyncio.sleep(0)

    h.executor.during_run = cancel

    assert h.handle(A_JOB) is RunStatus.CANCELLED
    assert seen[0].stopping == RunStopping(Stopping.CANCEL, 60.0, NOW + KILL_WITHIN)
    assert h.store.current(RUN_ID).stopping == seen[0].stopping


def test_a_timed_out_run_with_attempts_left_is_retried() -> None:
    job = dataclasses.replace(TIMED_JOB, retry=RetryPolicy(max_attempts=2, backoff_sec=1.0))
    h = runner_harness(RunSnapshot.pending(job), outcome=TIMED_OUT)
    stops(h, StopReason.TIMEOUT, [])

    assert h.handle(job) is RunStatus.PENDING
    retried = h.store.current(RUN_ID)
    assert (retried.next_attempt_at, retried.stopping) == (NOW + 1.0, None)
    assert h.log[-1] == "nak 1.0"


def test_a_cancel_while_stopping_for_the_timeout_means_no_retry() -> None:
    job = dataclasses.replace(TIMED_JOB, retry=RetryPolicy(max_attempts=2, backoff_sec=1.0))
    h = runner_harness(RunSnapshot.pending(job), outcome=TIMED_OUT)
    seen: list[RunSnapshot] = []
    stops(h, StopReason.TIMEOUT, seen)
    plain_stop = h.executor.during_run
    assert plain_stop is not None

    async def then_cancel(on_progress: ProgressCallback) -> None:
        await plain_stop(on_progress)
        h.store.put(seen[0].cancel_requested(NOW + 1, "alice", "give up"))

    h.executor.during_run = then_cancel

    assert h.handle(job) is RunStatus.FAILED
    final = h.store.current(RUN_ID)
    assert (final.error_reason, final.cancel_requested_by) == ("timeout", "alice")


def test_a_run_whose_worker_died_while_stopping_it_for_its_timeout_fails_at_once() -> None:
    stopping = (
        RunSnapshot.pending(TIMED_JOB)
        .claimed("w0", 1, 10.0)
        .being_stopped(Stopping.TIMEOUT, 12.0, 15.0)
    )
    h = runner_harness(stopping)

    assert h.handle(TIMED_JOB, attempt=2) is RunStatus.FAILED
    assert h.executor.jobs == []
    final = h.store.current(RUN_ID)
    assert (final.error_reason, final.attempt) == ("timeout", 2)
    assert "worker was lost while stopping it" in (final.error or "")
    assert [letter.reason for letter in h.dead_letters.letters] == [DeadLetterReason.TIMEOUT]


@pytest.mark.parametrize("reason", [StopReason.SHUTDOWN, StopReason.ABANDONED])
def test_stops_for_a_shutdown_or_a_newer_attempt_write_no_cancelling(reason: StopReason) -> None:
    h = runner_harness(RunSnapshot.pending(A_JOB), outcome=TIMED_OUT)

    async def stop(on_progress: ProgressCallback) -> None:
        control = h.runner.active[RUN_ID].control
        control.stop(reason)
        control.stopping_within(KILL_WITHIN)
        await asyncio.sleep(0)

    h.executor.during_run = stop
    h.handle(A_JOB)

    assert "write CANCELLING" not in h.log
