"""JobRunner paths of the worker runtime: shutdown hand-back, early cancel, fencing reads.

Also attempt numbering and the observer. The store's reads and the observer's calls are logged
with the writes and queue actions (see tests/support/runner.py).
"""

from __future__ import annotations

import dataclasses

import pytest

from pyoco_server.domain.errors import RunAbandoned
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import AttemptStatus, FailureReason, RunSnapshot, RunStatus
from pyoco_worker.execution import Outcome, ProgressCallback, StopReason
from tests.support.fakes import COMPLETED, failed
from tests.support.runner import RunnerHarness, runner_harness
from tests.support.samples import A_JOB, RUN_ID

BOOM = failed(FailureReason.EXECUTION_ERROR, "ValueError: boom")


def harness(
    *snapshots: RunSnapshot, outcome: Outcome = COMPLETED, settings: Settings | None = None
) -> RunnerHarness:
    """A runner whose reads and observer calls are logged with everything else."""
    return runner_harness(*snapshots, outcome=outcome, settings=settings, traced=True)


def attempts(snapshot: RunSnapshot) -> list[tuple[int, AttemptStatus]]:
    return [(record.attempt, record.status) for record in snapshot.attempts]


# --- shutdown --------------------------------------------------------------------------------


def test_a_run_abandoned_at_shutdown_is_nakked_at_once_without_a_terminal_write() -> None:
    h = harness(RunSnapshot.pending(A_JOB))

    async def stopped_by_the_shutdown(on_progress: ProgressCallback) -> None:
        raise RunAbandoned(f"run {RUN_ID} stopped by the worker's shutdown")

    h.executor.during_run = stopped_by_the_shutdown

    status = h.handle(A_JOB)

    assert status is RunStatus.RUNNING
    assert h.log == [
        "get",
        "write RUNNING",
        f"started {RUN_ID}",
        "execute",
        "get",  # still this attempt's run: handed back
        "nak None",
        f"ended {RUN_ID} None",
    ]
    assert h.store.current(RUN_ID).status is RunStatus.RUNNING
    assert h.dead_letters.letters == []
    assert h.runner.active == {}


# --- a cancel that came before this attempt ---------------------------------------------------


def test_a_run_already_cancelling_at_pickup_is_cancelled_without_executing() -> None:
    cancelling = (
        RunSnapshot.pending(A_JOB).claimed("w0", 1, 10.0).cancel_requested(20.0, "alice", "stop")
    )
    h = harness(cancelling)

    status = h.handle(A_JOB, attempt=2)

    assert status is RunStatus.CANCELLED
    assert h.log == ["get", "write CANCELLING", "write CANCELLED", "ack"]
    assert h.executor.jobs == []
    final = h.store.current(RUN_ID)
    assert (final.status, final.error_reason) == (RunStatus.CANCELLED, "cancelled")
    assert (final.cancel_requested_by, final.cancel_reason) == ("alice", "stop")
    assert (final.worker_id, final.attempt) == ("w1", 2)
    assert attempts(final) == [(1, AttemptStatus.LOST), (2, AttemptStatus.CANCELLED)]
    assert h.dead_letters.letters == []


# --- reads before the claim ------------------------------------------------------------------


def test_a_first_delivery_of_an_older_gateways_job_claims_without_reading_the_store() -> None:
    """Older gateways stored the run first and put its revision in the job."""
    job = dataclasses.replace(A_JOB, snapshot_revision=1)
    h = harness(RunSnapshot.pending(job))

    status = h.handle(job, attempt=1)

    assert status is RunStatus.COMPLETED
    assert h.gets == 0
    assert h.log == [
        "write RUNNING",
        f"started {RUN_ID}",
        "execute",
        "write COMPLETED",
        "ack",
        f"ended {RUN_ID} COMPLETED",
    ]


def test_a_first_delivery_of_a_run_cancelled_while_queued_finds_out_at_its_claim() -> None:
    job = dataclasses.replace(A_JOB, snapshot_revision=1)
    store_snapshot = RunSnapshot.pending(job)
    h = harness(store_snapshot)
    cancelled = store_snapshot.cancel_requested(50.0, "alice", None)
    h.store.put(cancelled)

    status = h.handle(job, attempt=1)

    assert status is None
    assert h.log == ["get", "ack"], "the lost claim read the run, saw it ended, and acked"
    assert h.executor.jobs == []
    assert h.store.current(RUN_ID) == cancelled


def test_a_first_delivery_of_this_gateways_job_reads_the_run_before_claiming() -> None:
    h = harness(RunSnapshot.pending(A_JOB, job_seq=1))

    assert h.handle(A_JOB, attempt=1) is RunStatus.COMPLETED
    assert h.log[:2] == ["get", "write RUNNING"]
    assert h.gets == 1


@pytest.mark.parametrize(
    ("attempt_base", "attempt"), [(0, 2), (3, 1)], ids=["redelivery", "redriven"]
)
def test_other_deliveries_read_the_store_before_claiming(attempt_base: int, attempt: int) -> None:
    job = dataclasses.replace(A_JOB, snapshot_revision=1, attempt_base=attempt_base)
    h = harness(RunSnapshot.pending(job))

    assert h.handle(job, attempt=attempt) is RunStatus.COMPLETED
    assert h.log[:2] == ["get", "write RUNNING"]
    assert h.gets == 1


# --- attempt numbering and the observer -------------------------------------------------------


def test_the_attempt_is_the_attempt_base_plus_the_delivery_count() -> None:
    job = dataclasses.replace(A_JOB, attempt_base=3)
    redriven = (
        RunSnapshot.pending(job)
        .claimed("w0", 3, 10.0)
        .finished(RunStatus.FAILED, 11.0, error="boom", reason="execution_error")
        .requeued(20.0)
    )
    h = harness(redriven, outcome=BOOM)

    assert h.handle(job, attempt=2) is RunStatus.FAILED

    final = h.store.current(RUN_ID)
    assert (final.worker_id, final.attempt) == ("w1", 5)
    assert attempts(final) == [(3, AttemptStatus.FAILED), (5, AttemptStatus.FAILED)]
    (letter,) = h.dead_letters.letters
    assert letter.num_delivered == 5


def test_the_observer_hears_of_the_start_and_the_end_with_the_final_snapshot() -> None:
    h = harness(RunSnapshot.pending(A_JOB))
    during: list[bool] = []

    async def look(on_progress: ProgressCallback) -> None:
        during.append(RUN_ID in h.runner.active)

    h.executor.during_run = look

    h.handle(A_JOB)

    assert during == [True]
    assert h.log.index(f"started {RUN_ID}") < h.log.index("execute")
    assert h.log[-1] == f"ended {RUN_ID} COMPLETED"
    assert h.observer.ended == [h.store.current(RUN_ID)]
    assert h.runner.active == {}


def test_stop_reaches_the_control_of_a_run_in_flight() -> None:
    h = harness(RunSnapshot.pending(A_JOB))
    seen: list[tuple[bool, StopReason | None]] = []

    async def stop_it(on_progress: ProgressCallback) -> None:
        stopped = h.runner.stop(RUN_ID, StopReason.CANCEL)
        seen.append((stopped, h.runner.active[RUN_ID].control.reason))

    h.executor.during_run = stop_it

    h.handle(A_JOB)

    assert seen == [(True, StopReason.CANCEL)]
    assert h.runner.stop(RUN_ID, StopReason.CANCEL) is False, "not running here any more"
