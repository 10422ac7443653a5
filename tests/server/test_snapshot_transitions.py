"""RunSnapshot transitions, RetryPolicy backoff and FailureReason.retryable.

Every snapshot a transition returns is also passed through the codec, so a transition that
produces something the contract refuses fails here rather than in a worker.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from pyoco_server.codec import decode_snapshot, encode_snapshot
from pyoco_server.messages import Job, RetryPolicy
from pyoco_server.snapshot import (
    AttemptRecord,
    AttemptStatus,
    FailureReason,
    RunSnapshot,
    RunStatus,
    TaskRecord,
    TaskState,
)

RETRY = RetryPolicy(max_attempts=3, backoff_sec=0.5, backoff_multiplier=3.0, max_backoff_sec=10.0)
JOB = Job(
    run_id="run-1",
    flow_name="main",
    tag="gpu",
    tags=("gpu", "large"),
    params={"x": 1, "nested": {"y": [1, 2]}},
    submitted_at=10.0,
    tenant_id="tenant-a",
    api_key_id="key-1",
    workflow_yaml="flow:\n  graph: a\n",
    workflow_yaml_sha256="ab" * 32,
    workflow_yaml_bytes=17,
    snapshot_revision=7,
    attempt_base=0,
    timeout_sec=30.0,
    retry=RETRY,
)
PENDING = RunSnapshot.pending(JOB)


def valid(snapshot: RunSnapshot) -> RunSnapshot:
    """`snapshot`, after checking that it survives the codec unchanged."""
    assert decode_snapshot(encode_snapshot(snapshot)) == snapshot
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
    assert snapshot.params == JOB.params
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


# --- _evolve ---------------------------------------------------------------------------------

_OTHER_VALUES: dict[str, Any] = {
    "run_id": "run-2",
    "flow_name": "other",
    "tag": "cpu",
    "tags": ("cpu",),
    "status": RunStatus.CANCELLING,
    "params": {"z": 3},
    "submitted_at": 1.5,
    "updated_at": 2.5,
    "tasks": {"a": TaskState.RUNNING},
    "task_records": {"a": TaskRecord(TaskState.RUNNING, started_at=3.0)},
    "task_records_truncated": True,
    "tenant_id": "tenant-b",
    "api_key_id": "key-2",
    "worker_id": "w9",
    "attempt": 9,
    "start_time": 4.0,
    "end_time": 5.0,
    "heartbeat_at": 6.0,
    "error": "err",
    "error_reason": "crashed",
    "workflow_yaml_sha256": "cd" * 32,
    "workflow_yaml_bytes": 99,
    "timeout_sec": 7.0,
    "retry": RetryPolicy(max_attempts=9),
    "attempts": (AttemptRecord(9, "w9", 4.0),),
    "next_attempt_at": 8.0,
    "cancel_requested_at": 9.0,
    "cancel_requested_by": "carol",
    "cancel_reason": "why not",
}


def test_every_field_has_a_test_value() -> None:
    assert set(_OTHER_VALUES) == {field.name for field in dataclasses.fields(RunSnapshot)}


@pytest.mark.parametrize("name", sorted(_OTHER_VALUES))
def test_evolve_of_one_field_equals_dataclasses_replace(name: str) -> None:
    base = running()
    value = _OTHER_VALUES[name]
    assert getattr(base, name) != value, "the test value must differ from the base value"

    evolved = base._evolve(**{name: value})

    assert evolved == dataclasses.replace(base, **{name: value})
    assert getattr(evolved, name) == value
    assert base == running(), "the original is unchanged"


def test_evolve_of_every_field_at_once_equals_dataclasses_replace() -> None:
    base = running()

    assert base._evolve(**_OTHER_VALUES) == dataclasses.replace(base, **_OTHER_VALUES)


def test_evolve_without_changes_is_an_equal_copy() -> None:
    base = running()

    copy = base._evolve()

    assert copy == base
    assert copy is not base


def test_evolve_rejects_unknown_fields() -> None:
    with pytest.raises(TypeError, match=r"no field\(s\) \['bogus', 'nope'\]"):
        running()._evolve(status=RunStatus.FAILED, bogus=1, nope=2)


# --- RetryPolicy and FailureReason -----------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "delays"),
    [
        (RetryPolicy(max_attempts=5), [1.0, 2.0, 4.0, 8.0, 16.0]),
        (RetryPolicy(5, backoff_sec=0.5, backoff_multiplier=3.0), [0.5, 1.5, 4.5, 13.5]),
        (RetryPolicy(5, backoff_sec=2.0, backoff_multiplier=1.0), [2.0, 2.0, 2.0]),
        (RetryPolicy(9, backoff_sec=1.0, max_backoff_sec=5.0), [1.0, 2.0, 4.0, 5.0, 5.0]),
        (RetryPolicy(2, backoff_sec=0.0), [0.0, 0.0]),
    ],
    ids=["defaults", "multiplier", "constant", "capped", "no-wait"],
)
def test_delay_after_backs_off_and_is_capped(policy: RetryPolicy, delays: list[float]) -> None:
    got = [policy.delay_after(failed) for failed in range(1, len(delays) + 1)]

    assert got == delays
    assert all(isinstance(delay, float) for delay in got)


def test_delay_after_zero_failures_is_the_first_backoff() -> None:
    assert RetryPolicy(3, backoff_sec=0.25).delay_after(0) == 0.25


def test_default_max_backoff_is_five_minutes() -> None:
    assert RetryPolicy(max_attempts=20).delay_after(20) == 300.0


@pytest.mark.parametrize(
    ("reason", "retryable"),
    [
        (FailureReason.EXECUTION_ERROR, True),
        (FailureReason.CRASHED, True),
        (FailureReason.TIMEOUT, True),
        (FailureReason.FLOW_NOT_FOUND, False),
        (FailureReason.INVALID_WORKFLOW, False),
        (FailureReason.MAX_DELIVERIES_EXCEEDED, False),
        (FailureReason.CANCELLED, False),
    ],
)
def test_failure_reason_retryable(reason: FailureReason, retryable: bool) -> None:
    assert reason.retryable is retryable


def test_every_failure_reason_is_classified() -> None:
    assert len(list(FailureReason)) == 7
