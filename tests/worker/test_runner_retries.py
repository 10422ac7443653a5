"""JobRunner retries: failed attempts go back to PENDING with a backoff until the policy's last.

Also the dead letters of the runtime's failures (crashes, timeouts). The store's reads and the
observer's calls are logged with the writes and queue actions (see tests/support/runner.py).
"""

from __future__ import annotations

import dataclasses

import pytest

from pyoco_server.domain.records import DeadLetterReason, RetryPolicy
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import AttemptStatus, FailureReason, RunSnapshot, RunStatus
from pyoco_worker.execution import Outcome, ProgressCallback, StopReason
from tests.support.fakes import COMPLETED, failed
from tests.support.runner import RunnerHarness, runner_harness
from tests.support.samples import A_JOB, NOW, RUN_ID

RETRY = RetryPolicy(max_attempts=3, backoff_sec=0.5, backoff_multiplier=2.0)
RETRY_JOB = dataclasses.replace(A_JOB, retry=RETRY)
BOOM = failed(FailureReason.EXECUTION_ERROR, "ValueError: boom")


def harness(
    *snapshots: RunSnapshot, outcome: Outcome = COMPLETED, settings: Settings | None = None
) -> RunnerHarness:
    """A runner whose reads and observer calls are logged with everything else."""
    return runner_harness(*snapshots, outcome=outcome, settings=settings, traced=True)


def attempts(snapshot: RunSnapshot) -> list[tuple[int, AttemptStatus]]:
    return [(record.attempt, record.status) for record in snapshot.attempts]


# --- retries ---------------------------------------------------------------------------------


def test_a_failure_with_attempts_left_goes_back_to_pending_and_is_nakked_with_the_backoff() -> None:
    h = harness(RunSnapshot.pending(RETRY_JOB), outcome=BOOM)

    status = h.handle(RETRY_JOB, attempt=1)

    assert status is RunStatus.PENDING
    assert h.log == [
        "get",
        "write RUNNING",
        f"started {RUN_ID}",
        "execute",
        "write PENDING",
        "nak 0.5",
        f"ended {RUN_ID} PENDING",
    ]
    pending = h.store.current(RUN_ID)
    assert pending.status is RunStatus.PENDING
    assert pending.next_attempt_at == NOW + 0.5
    assert attempts(pending) == [(1, AttemptStatus.FAILED)]
    assert pending.attempts[0].error == "ValueError: boom"
    assert pending.attempts[0].error_reason == "execution_error"
    assert h.dead_letters.letters == []


def test_retries_back_off_and_the_last_allowed_attempt_fails_for_good() -> None:
    h = harness(RunSnapshot.pending(RETRY_JOB), outcome=BOOM)

    assert h.handle(RETRY_JOB, attempt=1) is RunStatus.PENDING
    assert h.log[-2] == "nak 0.5"
    h.clear()
    assert h.handle(RETRY_JOB, attempt=2) is RunStatus.PENDING
    assert h.log[-2] == "nak 1.0"
    assert h.store.current(RUN_ID).next_attempt_at == NOW + 1.0
    assert h.dead_letters.letters == []
    h.clear()

    status = h.handle(RETRY_JOB, attempt=3)

    assert status is RunStatus.FAILED
    assert h.log[-4:] == [
        "dead letter execution_error",
        "write FAILED",
        "ack",
        f"ended {RUN_ID} FAILED",
    ]
    assert not any(entry.startswith("nak") for entry in h.log)
    final = h.store.current(RUN_ID)
    assert (final.status, final.error, final.error_reason) == (
        RunStatus.FAILED,
        "ValueError: boom",
        "execution_error",
    )
    assert final.next_attempt_at is None
    assert attempts(final) == [
        (1, AttemptStatus.FAILED),
        (2, AttemptStatus.FAILED),
        (3, AttemptStatus.FAILED),
    ]
    (letter,) = h.dead_letters.letters
    assert (letter.reason, letter.num_delivered) == (DeadLetterReason.EXECUTION_ERROR, 3)


@pytest.mark.parametrize(
    "reason", [FailureReason.EXECUTION_ERROR, FailureReason.CRASHED, FailureReason.TIMEOUT]
)
def test_every_retryable_failure_is_retried(reason: FailureReason) -> None:
    h = harness(RunSnapshot.pending(RETRY_JOB), outcome=failed(reason, "why"))

    assert h.handle(RETRY_JOB) is RunStatus.PENDING
    assert "nak 0.5" in h.log
    assert h.dead_letters.letters == []
    assert h.store.current(RUN_ID).attempts[0].error_reason == reason.value


@pytest.mark.parametrize(
    ("reason", "dead_letter"),
    [
        (FailureReason.FLOW_NOT_FOUND, DeadLetterReason.FLOW_NOT_FOUND),
        (FailureReason.INVALID_WORKFLOW, DeadLetterReason.FLOW_NOT_FOUND),
    ],
)
def test_a_non_retryable_failure_is_never_retried(
    reason: FailureReason, dead_letter: DeadLetterReason
) -> None:
    h = harness(RunSnapshot.pending(RETRY_JOB), outcome=failed(reason, f"{reason}: nope"))

    status = h.handle(RETRY_JOB)

    assert status is RunStatus.FAILED
    assert not any(entry.startswith("nak") for entry in h.log)
    assert h.log[-2:] == ["ack", f"ended {RUN_ID} FAILED"]
    assert [letter.reason for letter in h.dead_letters.letters] == [dead_letter]
    assert attempts(h.store.current(RUN_ID)) == [(1, AttemptStatus.FAILED)]


def test_a_policy_of_one_attempt_never_retries() -> None:
    job = dataclasses.replace(A_JOB, retry=RetryPolicy(max_attempts=1))
    h = harness(RunSnapshot.pending(job), outcome=BOOM)

    assert h.handle(job) is RunStatus.FAILED
    assert "ack" in h.log
    assert not any(entry.startswith("nak") for entry in h.log)


def test_a_failure_without_a_retry_policy_is_final() -> None:
    h = harness(RunSnapshot.pending(A_JOB), outcome=BOOM)

    assert h.handle(A_JOB) is RunStatus.FAILED
    assert h.log[-3:] == ["write FAILED", "ack", f"ended {RUN_ID} FAILED"]


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (COMPLETED, RunStatus.COMPLETED),
        (Outcome(RunStatus.CANCELLED, {}, {}, reason=FailureReason.CANCELLED), RunStatus.CANCELLED),
    ],
    ids=["completed", "cancelled"],
)
def test_a_run_that_did_not_fail_is_not_retried(outcome: Outcome, status: RunStatus) -> None:
    h = harness(RunSnapshot.pending(RETRY_JOB), outcome=outcome)

    assert h.handle(RETRY_JOB) is status
    assert h.log[-2:] == ["ack", f"ended {RUN_ID} {status}"]
    assert h.dead_letters.letters == []


def test_lost_attempts_do_not_count_as_failures() -> None:
    lost_twice = RunSnapshot.pending(RETRY_JOB).claimed("w0", 1, 10.0).claimed("w0", 2, 20.0)
    h = harness(lost_twice, outcome=BOOM)

    assert h.handle(RETRY_JOB, attempt=3) is RunStatus.PENDING
    assert attempts(h.store.current(RUN_ID)) == [
        (1, AttemptStatus.LOST),
        (2, AttemptStatus.LOST),
        (3, AttemptStatus.FAILED),
    ]


@pytest.mark.parametrize("noticed_by", ["end-write", "heartbeat"])
def test_a_cancelled_run_whose_attempt_fails_is_not_retried(noticed_by: str) -> None:
    h = harness(RunSnapshot.pending(RETRY_JOB), outcome=BOOM)

    async def cancel_during_the_run(on_progress: ProgressCallback) -> None:
        h.store.put(h.store.current(RUN_ID).cancel_requested(NOW, "alice", "stop it"))
        if noticed_by == "heartbeat":
            await h.runner.active[RUN_ID].writer.heartbeat()
            assert h.runner.active[RUN_ID].control.reason is StopReason.CANCEL

    h.executor.during_run = cancel_during_the_run

    status = h.handle(RETRY_JOB)

    assert status is not None
    assert status.terminal
    final = h.store.current(RUN_ID)
    assert final.terminal
    assert final.cancel_requested_by == "alice"
    assert "ack" in h.log
    assert not any(entry.startswith("nak") for entry in h.log)


# --- dead letters of the runtime's failures ---------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "dead_letter"),
    [
        (FailureReason.CRASHED, DeadLetterReason.EXECUTION_ERROR),
        (FailureReason.TIMEOUT, DeadLetterReason.TIMEOUT),
    ],
)
def test_runtime_failures_are_dead_lettered(
    reason: FailureReason, dead_letter: DeadLetterReason
) -> None:
    h = harness(RunSnapshot.pending(A_JOB), outcome=failed(reason, f"{reason} happened"))

    assert h.handle(A_JOB) is RunStatus.FAILED

    (letter,) = h.dead_letters.letters
    assert letter.reason is dead_letter
    assert letter.error == f"{reason} happened"
    assert letter.job == A_JOB
    assert h.store.current(RUN_ID).error_reason == reason.value
    assert h.log.index(f"dead letter {dead_letter}") < h.log.index("write FAILED")
    assert h.log.index("write FAILED") < h.log.index("ack")


def test_a_timeout_is_dead_lettered_even_when_execution_errors_are_not() -> None:
    settings = Settings(dlq_publish_execution_error=False)
    crashed = harness(
        RunSnapshot.pending(A_JOB), outcome=failed(FailureReason.CRASHED, "x"), settings=settings
    )
    timed_out = harness(
        RunSnapshot.pending(A_JOB), outcome=failed(FailureReason.TIMEOUT, "y"), settings=settings
    )

    crashed.handle(A_JOB)
    timed_out.handle(A_JOB)

    assert crashed.dead_letters.letters == []
    assert [letter.reason for letter in timed_out.dead_letters.letters] == [
        DeadLetterReason.TIMEOUT
    ]
