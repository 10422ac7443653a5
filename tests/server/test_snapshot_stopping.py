"""RunSnapshot while a run is being stopped: `stopping` from a cancel or a timeout, and after.

Every snapshot a transition returns is also passed through the codec, so a transition that
produces something the contract refuses fails here rather than in a worker.
"""

from __future__ import annotations

import dataclasses

from pyoco_server.domain.codec import SNAPSHOT, encode_snapshot
from pyoco_server.domain.snapshot import (
    FailureReason,
    RunSnapshot,
    RunStatus,
    RunStopping,
    StopReason,
)
from tests.support.samples import FULL_JOB

RUNNING = RunSnapshot.pending(FULL_JOB).claimed("w1", 1, 20.0)


def valid(snapshot: RunSnapshot) -> RunSnapshot:
    """`snapshot`, after checking that it survives the codec unchanged."""
    assert SNAPSHOT.decode(encode_snapshot(snapshot)) == snapshot
    return snapshot


def test_a_running_run_is_not_stopping() -> None:
    assert RUNNING.stopping is None


def test_a_cancel_says_why_and_since_when_and_leaves_the_deadline_to_the_worker() -> None:
    cancelling = valid(RUNNING.cancel_requested(30.0, "alice", "stop"))

    assert cancelling.status is RunStatus.CANCELLING
    assert cancelling.stopping == RunStopping(StopReason.CANCEL, 30.0, None)


def test_the_worker_adds_its_deadline_to_a_cancel_and_keeps_why_and_since() -> None:
    cancelling = RUNNING.cancel_requested(30.0, "alice", "stop")

    stopping = valid(cancelling.being_stopped(StopReason.CANCEL, 30.5, 41.5))

    assert stopping.status is RunStatus.CANCELLING
    assert stopping.stopping == RunStopping(StopReason.CANCEL, 30.0, 41.5)
    assert stopping.updated_at == 30.5
    assert stopping.cancel_requested_at == 30.0


def test_a_timeout_makes_a_running_run_cancelling_at_once() -> None:
    stopping = valid(RUNNING.being_stopped(StopReason.TIMEOUT, 50.0, 61.0))

    assert stopping.status is RunStatus.CANCELLING
    assert stopping.stopping == RunStopping(StopReason.TIMEOUT, 50.0, 61.0)
    assert stopping.cancel_requested_at is None, "nobody asked"
    assert stopping.updated_at == 50.0


def test_a_stop_that_has_its_deadline_is_not_written_again() -> None:
    stopping = RUNNING.being_stopped(StopReason.TIMEOUT, 50.0, 61.0)

    assert stopping.being_stopped(StopReason.CANCEL, 55.0, 66.0) is stopping


def test_an_ended_run_is_not_stopped() -> None:
    ended = RUNNING.finished(RunStatus.COMPLETED, 40.0)

    assert ended.being_stopped(StopReason.TIMEOUT, 50.0, 61.0) is ended


def test_a_cancel_while_stopping_for_the_timeout_is_recorded_and_the_stop_goes_on() -> None:
    stopping = RUNNING.being_stopped(StopReason.TIMEOUT, 50.0, 61.0)

    asked = valid(stopping.cancel_requested(55.0, "alice", "give up"))

    assert asked.status is RunStatus.CANCELLING
    assert asked.stopping == stopping.stopping, "still the timeout's stop"
    assert (asked.cancel_requested_at, asked.cancel_requested_by) == (55.0, "alice")
    assert asked.cancel_requested(60.0, "bob", "again") is asked


def test_the_stop_is_kept_when_the_run_ends() -> None:
    stopping = RUNNING.being_stopped(StopReason.TIMEOUT, 50.0, 61.0)

    ended = valid(stopping.finished(RunStatus.FAILED, 60.0, reason=FailureReason.TIMEOUT))

    assert ended.stopping == stopping.stopping


def test_a_retry_after_a_timeout_is_not_stopping_any_more() -> None:
    stopping = RUNNING.being_stopped(StopReason.TIMEOUT, 50.0, 61.0)

    retried = valid(stopping.retry_scheduled(60.0, 5.0, error="timeout", reason="timeout"))

    assert retried.status is RunStatus.PENDING
    assert retried.stopping is None
    assert retried.claimed("w2", 2, 70.0).status is RunStatus.RUNNING


def test_a_requeued_run_is_not_stopping_any_more() -> None:
    cancelled = (
        RUNNING.cancel_requested(30.0, "alice", "stop")
        .being_stopped(StopReason.CANCEL, 30.5, 41.5)
        .finished(RunStatus.CANCELLED, 35.0, reason=FailureReason.CANCELLED)
    )

    assert valid(cancelled.requeued(100.0)).stopping is None


def test_a_cancel_written_without_its_stop_gets_one_from_the_request() -> None:
    """A gateway older than `stopping` wrote CANCELLING alone."""
    asked = RUNNING.cancel_requested(30.0, "alice", "stop")
    older = dataclasses.replace(asked, stopping=None)

    stopping = valid(older.being_stopped(StopReason.CANCEL, 31.0, 42.0))

    assert stopping.stopping == RunStopping(StopReason.CANCEL, 30.0, 42.0)
