"""RunSnapshot transitions: pending, claimed, finished, retry_scheduled, cancel_requested, requeued.

Every snapshot a transition returns is also passed through the codec, so a transition that
produces something the contract refuses fails here rather than in a worker.
"""

from __future__ import annotations

import dataclasses

import pytest

from pyoco_server.domain.codec import SNAPSHOT, encode_snapshot
from pyoco_server.domain.snapshot import (
    AttemptRecord,
    AttemptStatus,
    FailureReason,
    RunSnapshot,
    RunStatus,
    TaskRecord,
    TaskState,
)
from tests.support.samples import FULL_JOB

RETRY = FULL_JOB.retry
PENDING = RunSnapshot.pending(FULL_JOB)


def valid(snapshot: RunSnapshot) -> RunSnapshot:
    """`snapshot`, after checking that it survives the codec unchanged."""
    assert SNAPSHOT.decode(encode_snapshot(snapshot)) == snapshot
    return snapshot


def running(worker_id: str = "w1", attempt: int = 1, now: float = 20.0) -> RunSnapshot:
    return PENDING.claimed(worker_id, attempt, now)


# --- pending ---------------------------------------------------------------------------------


def test_pending_mirrors_the_job() -> None:
    snapshot = valid(PENDING)

    assert snapshot.status is RunStatus.PENDING
    assert (snapshot.run_id, snapshot.flow_name, snapshot.tag, snapshot.tags) == (
        "run-1",
        "main",
        "gpu",
        ("gpu", "large"),
    )
    assert snapshot.params == FULL_JOB.params
    assert snapshot.submitted_at == snapshot.updated_at == snapshot.heartbeat_at == 10.0
    assert (snapshot.tenant_id, snapshot.api_key_id) == ("tenant-a", "key-1")
    assert (snapshot.workflow_yaml_sha256, snapshot.workflow_yaml_bytes) == ("ab" * 32, 17)
    assert (snapshot.timeout_sec, snapshot.retry) == (30.0, RETRY)


def test_pending_starts_with_no_attempt_worker_or_end() -> None:
    assert PENDING.attempt == 0
    assert PENDING.attempts == ()
    assert PENDING.worker_id is None
    assert (PENDING.start_time, PENDING.end_time, PENDING.next_attempt_at) == (None, None, None)
    assert (PENDING.error, PENDING.error_reason) == (None, None)
    assert (PENDING.tasks, PENDING.task_records) == ({}, {})
    assert PENDING.cancel_requested_at is None
    assert not PENDING.terminal


# --- claimed ---------------------------------------------------------------------------------


def test_claimed_writes_running_with_a_running_attempt_record() -> None:
    claimed = valid(PENDING.claimed("w1", 1, 20.0))

    assert claimed.status is RunStatus.RUNNING
    assert (claimed.worker_id, claimed.attempt) == ("w1", 1)
    assert claimed.start_time == claimed.heartbeat_at == claimed.updated_at == 20.0
    assert claimed.end_time is None
    assert claimed.attempts == (AttemptRecord(1, "w1", 20.0),)
    assert claimed.attempts[0].status is AttemptStatus.RUNNING


def test_claimed_closes_an_earlier_running_attempt_as_lost() -> None:
    first = running("w0", 1, 20.0)

    second = valid(first.claimed("w1", 2, 50.0))

    lost, current = second.attempts
    assert lost == AttemptRecord(1, "w0", 20.0, AttemptStatus.LOST, ended_at=50.0)
    assert current == AttemptRecord(2, "w1", 50.0, AttemptStatus.RUNNING)
    assert (second.worker_id, second.attempt, second.start_time) == ("w1", 2, 50.0)


def test_claimed_keeps_closed_attempts_as_they_were() -> None:
    failed = running("w0", 1, 20.0).retry_scheduled(25.0, 1.0, error="boom", reason="crashed")

    again = valid(failed.claimed("w1", 2, 30.0))

    assert again.attempts[0] == failed.attempts[0]
    assert again.attempts[0].status is AttemptStatus.FAILED
    assert [a.status for a in again.attempts] == [AttemptStatus.FAILED, AttemptStatus.RUNNING]


def test_claimed_keeps_a_pending_cancel() -> None:
    cancelling = running("w0", 1, 20.0).cancel_requested(30.0, "alice", "stop")
    assert cancelling.status is RunStatus.CANCELLING

    claimed = valid(cancelling.claimed("w1", 2, 40.0))

    assert claimed.status is RunStatus.CANCELLING
    assert (claimed.cancel_requested_at, claimed.cancel_requested_by, claimed.cancel_reason) == (
        30.0,
        "alice",
        "stop",
    )
    assert (claimed.worker_id, claimed.attempt) == ("w1", 2)


def test_claimed_clears_the_previous_attempt_error_end_and_retry_time() -> None:
    retried = running("w0", 1, 20.0).retry_scheduled(25.0, 5.0, error="boom", reason="crashed")
    dirty = dataclasses.replace(
        retried, error="boom", error_reason="crashed", end_time=25.0, next_attempt_at=30.0
    )

    claimed = valid(dirty.claimed("w1", 2, 31.0))

    assert (claimed.error, claimed.error_reason) == (None, None)
    assert claimed.next_attempt_at is None
    assert claimed.end_time is None


# --- finished --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "attempt_status"),
    [
        (RunStatus.COMPLETED, AttemptStatus.COMPLETED),
        (RunStatus.FAILED, AttemptStatus.FAILED),
        (RunStatus.CANCELLED, AttemptStatus.CANCELLED),
    ],
)
def test_finished_closes_the_current_attempt(
    status: RunStatus, attempt_status: AttemptStatus
) -> None:
    ended = valid(running().finished(status, 60.0, error="why", reason=FailureReason.TIMEOUT))

    assert ended.status is status
    assert ended.terminal
    assert ended.end_time == ended.heartbeat_at == ended.updated_at == 60.0
    assert (ended.error, ended.error_reason) == ("why", "timeout")
    assert ended.attempts == (
        AttemptRecord(1, "w1", 20.0, attempt_status, 60.0, "why", FailureReason.TIMEOUT),
    )
    assert (ended.worker_id, ended.attempt) == ("w1", 1)


def test_finished_closes_only_the_current_running_attempt() -> None:
    first = running("w0", 1, 20.0)
    second = first.claimed("w1", 2, 30.0)

    ended = valid(second.finished(RunStatus.COMPLETED, 40.0))

    assert [(a.attempt, a.status, a.ended_at) for a in ended.attempts] == [
        (1, AttemptStatus.LOST, 30.0),
        (2, AttemptStatus.COMPLETED, 40.0),
    ]


def test_finished_clears_next_attempt_at() -> None:
    retried = running().retry_scheduled(25.0, 5.0, error="e", reason="crashed")

    ended = valid(retried.finished(RunStatus.CANCELLED, 26.0, reason=FailureReason.CANCELLED))

    assert ended.next_attempt_at is None
    assert ended.attempts[0].status is AttemptStatus.FAILED, "a closed attempt stays closed"


@pytest.mark.parametrize("status", [RunStatus.PENDING, RunStatus.RUNNING, RunStatus.CANCELLING])
def test_finished_refuses_a_non_terminal_status(status: RunStatus) -> None:
    with pytest.raises(ValueError, match="not a terminal status"):
        running().finished(status, 60.0)


# --- retry_scheduled -------------------------------------------------------------------------


def test_retry_scheduled_returns_to_pending_with_the_attempt_failed() -> None:
    claimed = running("w1", 1, 20.0)

    retried = valid(
        claimed.retry_scheduled(25.0, 4.0, error="ValueError: boom", reason="execution_error")
    )

    assert retried.status is RunStatus.PENDING
    assert not retried.terminal
    assert retried.next_attempt_at == 29.0
    assert retried.heartbeat_at == retried.updated_at == 25.0
    assert retried.attempts == (
        AttemptRecord(
            1, "w1", 20.0, AttemptStatus.FAILED, 25.0, "ValueError: boom", "execution_error"
        ),
    )
    assert retried.end_time is None
    assert (retried.worker_id, retried.attempt) == ("w1", 1), "the next claim fences by attempt"


# --- cancel_requested ------------------------------------------------------------------------


def test_cancel_of_a_pending_run_cancels_it() -> None:
    cancelled = valid(PENDING.cancel_requested(15.0, "alice", "not needed"))

    assert cancelled.status is RunStatus.CANCELLED
    assert cancelled.error_reason == "cancelled"
    assert cancelled.error is None
    assert cancelled.end_time == cancelled.updated_at == 15.0
    assert (cancelled.cancel_requested_at, cancelled.cancel_requested_by) == (15.0, "alice")
    assert cancelled.cancel_reason == "not needed"
    assert cancelled.attempts == ()


def test_cancel_of_a_run_waiting_for_its_retry_cancels_it() -> None:
    retried = running().retry_scheduled(25.0, 60.0, error="e", reason="crashed")

    cancelled = valid(retried.cancel_requested(30.0, None, None))

    assert cancelled.status is RunStatus.CANCELLED
    assert cancelled.next_attempt_at is None
    assert [a.status for a in cancelled.attempts] == [AttemptStatus.FAILED]


def test_cancel_of_a_running_run_marks_it_cancelling() -> None:
    claimed = running()

    cancelling = valid(claimed.cancel_requested(30.0, "address:1.2.3.4", "too slow"))

    assert cancelling.status is RunStatus.CANCELLING
    assert not cancelling.terminal
    assert cancelling.updated_at == cancelling.cancel_requested_at == 30.0
    assert cancelling.cancel_requested_by == "address:1.2.3.4"
    assert cancelling.cancel_reason == "too slow"
    assert cancelling.end_time is None
    assert cancelling.attempts == claimed.attempts
    assert (cancelling.worker_id, cancelling.attempt) == ("w1", 1)


def test_a_repeated_cancel_keeps_the_first_request() -> None:
    cancelling = running().cancel_requested(30.0, "alice", "first")

    again = cancelling.cancel_requested(40.0, "bob", "second")

    assert again is cancelling
    assert (again.cancel_requested_at, again.cancel_requested_by, again.cancel_reason) == (
        30.0,
        "alice",
        "first",
    )


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED])
def test_cancel_of_an_ended_run_returns_it_unchanged(status: RunStatus) -> None:
    ended = running().finished(status, 60.0)

    assert ended.cancel_requested(70.0, "alice", "late") is ended


# --- requeued --------------------------------------------------------------------------------


def test_requeued_clears_the_end_and_keeps_the_history() -> None:
    ended = (
        running("w1", 1, 20.0)
        .cancel_requested(30.0, "alice", "stop")
        .finished(RunStatus.CANCELLED, 35.0, reason=FailureReason.CANCELLED)
    )

    requeued = valid(ended.requeued(100.0))

    assert requeued.status is RunStatus.PENDING
    assert (requeued.start_time, requeued.end_time, requeued.next_attempt_at) == (None, None, None)
    assert (requeued.error, requeued.error_reason) == (None, None)
    assert (
        requeued.cancel_requested_at,
        requeued.cancel_requested_by,
        requeued.cancel_reason,
    ) == (None, None, None)
    assert requeued.heartbeat_at == requeued.updated_at == 100.0
    assert requeued.attempts == ended.attempts
    assert (requeued.worker_id, requeued.attempt) == ("w1", 1)


def test_requeued_failed_run_keeps_its_tasks_for_inspection() -> None:
    failed = (
        running()
        .progressed({"a": TaskState.FAILED}, {"a": TaskRecord(TaskState.FAILED)}, 30.0)
        .finished(RunStatus.FAILED, 31.0, error="boom", reason="execution_error")
    )

    requeued = valid(failed.requeued(100.0))

    assert requeued.tasks == {"a": TaskState.FAILED}
    assert requeued.attempts[0].error == "boom"
