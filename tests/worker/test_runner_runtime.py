"""JobRunner paths of the worker runtime: retries, shutdown hand-back, early cancel, fencing reads.

The fakes come from test_runner.py; the store here also logs its reads, so the order of reads,
writes and queue actions is visible in one log.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from pyoco_server.codec import encode_job
from pyoco_server.errors import RunAbandoned
from pyoco_server.messages import DeadLetterReason, Job, RetryPolicy
from pyoco_server.ports import StoredSnapshot
from pyoco_server.settings import Settings
from pyoco_server.snapshot import AttemptStatus, FailureReason, RunSnapshot, RunStatus
from pyoco_worker.execution import Outcome, ProgressCallback, RunControl, StopReason
from pyoco_worker.runner import JobRunner
from tests.worker.test_runner import (
    COMPLETED,
    JOB,
    FakeDeadLetters,
    FakeDelivery,
    FakeExecutor,
    failed,
)
from tests.worker.test_snapshots import NOW, RUN_ID, FakeRunStore

RETRY = RetryPolicy(max_attempts=3, backoff_sec=0.5, backoff_multiplier=2.0)
RETRY_JOB = dataclasses.replace(JOB, retry=RETRY)
BOOM = failed(FailureReason.EXECUTION_ERROR, "ValueError: boom")


class ReadLoggingRunStore(FakeRunStore):
    """A FakeRunStore that also logs (and counts) its reads."""

    def __init__(self, *snapshots: RunSnapshot, log: list[str]) -> None:
        super().__init__(*snapshots, log=log)
        self.gets = 0

    async def get(self, run_id: str) -> StoredSnapshot | None:
        self.gets += 1
        self.log.append("get")
        return await super().get(run_id)


class RecordingObserver:
    """A RunObserver that logs what it is told."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.ended: list[RunSnapshot | None] = []

    def run_started(self, run_id: str) -> None:
        self.log.append(f"started {run_id}")

    def run_ended(self, run_id: str, snapshot: RunSnapshot | None) -> None:
        self.ended.append(snapshot)
        self.log.append(f"ended {run_id} {snapshot.status if snapshot else None}")


class AbandoningExecutor(FakeExecutor):
    """An executor whose run is stopped by the worker's shutdown."""

    async def execute(
        self, job: Job, on_progress: ProgressCallback, control: RunControl
    ) -> Outcome:
        await super().execute(job, on_progress, control)
        raise RunAbandoned(f"run {job.run_id} stopped by the worker's shutdown")


@dataclasses.dataclass
class Harness:
    store: ReadLoggingRunStore
    dead_letters: FakeDeadLetters
    executor: FakeExecutor
    observer: RecordingObserver
    runner: JobRunner
    log: list[str]

    def handle(self, job: Job = RETRY_JOB, *, attempt: int = 1) -> RunStatus | None:
        delivery = FakeDelivery(encode_job(job), self.log, attempt=attempt)
        return asyncio.run(asyncio.wait_for(self.runner.handle(delivery), 10.0))

    def clear(self) -> None:
        self.log.clear()


def harness(
    *snapshots: RunSnapshot,
    outcome: Outcome = COMPLETED,
    settings: Settings | None = None,
    executor: type[FakeExecutor] = FakeExecutor,
) -> Harness:
    log: list[str] = []
    store = ReadLoggingRunStore(*snapshots, log=log)
    dead_letters = FakeDeadLetters(log)
    fake = executor(outcome, log)
    observer = RecordingObserver(log)
    runner = JobRunner(
        store=store,
        dead_letters=dead_letters,
        executor=fake,
        settings=settings or Settings(),
        worker_id="w1",
        observer=observer,
        clock=lambda: NOW,
    )
    return Harness(store, dead_letters, fake, observer, runner, log)


def attempts(snapshot: RunSnapshot) -> list[tuple[int, AttemptStatus]]:
    return [(record.attempt, record.status) for record in snapshot.attempts]


# --- retries ---------------------------------------------------------------------------------


def test_a_failure_with_attempts_left_goes_back_to_pending_and_is_nakked_with_the_backoff() -> None:
    h = harness(RunSnapshot.pending(RETRY_JOB), outcome=BOOM)

    status = h.handle(attempt=1)

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
    pending = h.store.current()
    assert pending.status is RunStatus.PENDING
    assert pending.next_attempt_at == NOW + 0.5
    assert attempts(pending) == [(1, AttemptStatus.FAILED)]
    assert pending.attempts[0].error == "ValueError: boom"
    assert pending.attempts[0].error_reason == "execution_error"
    assert h.dead_letters.letters == []


def test_retries_back_off_and_the_last_allowed_attempt_fails_for_good() -> None:
    h = harness(RunSnapshot.pending(RETRY_JOB), outcome=BOOM)

    assert h.handle(attempt=1) is RunStatus.PENDING
    assert h.log[-2] == "nak 0.5"
    h.clear()
    assert h.handle(attempt=2) is RunStatus.PENDING
    assert h.log[-2] == "nak 1.0"
    assert h.store.current().next_attempt_at == NOW + 1.0
    assert h.dead_letters.letters == []
    h.clear()

    status = h.handle(attempt=3)

    assert status is RunStatus.FAILED
    assert h.log[-4:] == [
        "dead letter execution_error",
        "write FAILED",
        "ack",
        f"ended {RUN_ID} FAILED",
    ]
    assert not any(entry.startswith("nak") for entry in h.log)
    final = h.store.current()
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

    assert h.handle() is RunStatus.PENDING
    assert "nak 0.5" in h.log
    assert h.dead_letters.letters == []
    assert h.store.current().attempts[0].error_reason == reason.value


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

    status = h.handle()

    assert status is RunStatus.FAILED
    assert not any(entry.startswith("nak") for entry in h.log)
    assert h.log[-2:] == ["ack", f"ended {RUN_ID} FAILED"]
    assert [letter.reason for letter in h.dead_letters.letters] == [dead_letter]
    assert attempts(h.store.current()) == [(1, AttemptStatus.FAILED)]


def test_a_policy_of_one_attempt_never_retries() -> None:
    job = dataclasses.replace(JOB, retry=RetryPolicy(max_attempts=1))
    h = harness(RunSnapshot.pending(job), outcome=BOOM)

    assert h.handle(job) is RunStatus.FAILED
    assert "ack" in h.log
    assert not any(entry.startswith("nak") for entry in h.log)


def test_a_failure_without_a_retry_policy_is_final() -> None:
    h = harness(RunSnapshot.pending(JOB), outcome=BOOM)

    assert h.handle(JOB) is RunStatus.FAILED
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

    assert h.handle() is status
    assert h.log[-2:] == ["ack", f"ended {RUN_ID} {status}"]
    assert h.dead_letters.letters == []


def test_lost_attempts_do_not_count_as_failures() -> None:
    lost_twice = RunSnapshot.pending(RETRY_JOB).claimed("w0", 1, 10.0).claimed("w0", 2, 20.0)
    h = harness(lost_twice, outcome=BOOM)

    assert h.handle(attempt=3) is RunStatus.PENDING
    assert attempts(h.store.current()) == [
        (1, AttemptStatus.LOST),
        (2, AttemptStatus.LOST),
        (3, AttemptStatus.FAILED),
    ]


@pytest.mark.parametrize("noticed_by", ["end-write", "heartbeat"])
def test_a_cancelled_run_whose_attempt_fails_is_not_retried(noticed_by: str) -> None:
    h = harness(RunSnapshot.pending(RETRY_JOB), outcome=BOOM)

    async def cancel_during_the_run(on_progress: ProgressCallback) -> None:
        h.store.put(h.store.current().cancel_requested(NOW, "alice", "stop it"))
        if noticed_by == "heartbeat":
            await h.runner.active[RUN_ID].writer.heartbeat()
            assert h.runner.active[RUN_ID].control.reason is StopReason.CANCEL

    h.executor.during_run = cancel_during_the_run

    status = h.handle()

    assert status is not None
    assert status.terminal
    final = h.store.current()
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
    h = harness(RunSnapshot.pending(JOB), outcome=failed(reason, f"{reason} happened"))

    assert h.handle(JOB) is RunStatus.FAILED

    (letter,) = h.dead_letters.letters
    assert letter.reason is dead_letter
    assert letter.error == f"{reason} happened"
    assert letter.job == JOB
    assert h.store.current().error_reason == reason.value
    assert h.log.index(f"dead letter {dead_letter}") < h.log.index("write FAILED")
    assert h.log.index("write FAILED") < h.log.index("ack")


def test_a_timeout_is_dead_lettered_even_when_execution_errors_are_not() -> None:
    settings = Settings(dlq_publish_execution_error=False)
    crashed = harness(
        RunSnapshot.pending(JOB), outcome=failed(FailureReason.CRASHED, "x"), settings=settings
    )
    timed_out = harness(
        RunSnapshot.pending(JOB), outcome=failed(FailureReason.TIMEOUT, "y"), settings=settings
    )

    crashed.handle(JOB)
    timed_out.handle(JOB)

    assert crashed.dead_letters.letters == []
    assert [letter.reason for letter in timed_out.dead_letters.letters] == [
        DeadLetterReason.TIMEOUT
    ]


# --- shutdown --------------------------------------------------------------------------------


def test_a_run_abandoned_at_shutdown_is_nakked_at_once_without_a_terminal_write() -> None:
    h = harness(RunSnapshot.pending(JOB), executor=AbandoningExecutor)

    status = h.handle(JOB)

    assert status is RunStatus.RUNNING
    assert h.log == [
        "get",
        "write RUNNING",
        f"started {RUN_ID}",
        "execute",
        "nak None",
        f"ended {RUN_ID} None",
    ]
    assert h.store.current().status is RunStatus.RUNNING
    assert h.dead_letters.letters == []
    assert h.runner.active == {}


# --- a cancel that came before this attempt ---------------------------------------------------


def test_a_run_already_cancelling_at_pickup_is_cancelled_without_executing() -> None:
    cancelling = (
        RunSnapshot.pending(JOB).claimed("w0", 1, 10.0).cancel_requested(20.0, "alice", "stop")
    )
    h = harness(cancelling)

    status = h.handle(JOB, attempt=2)

    assert status is RunStatus.CANCELLED
    assert h.log == ["get", "write CANCELLING", "write CANCELLED", "ack"]
    assert h.executor.jobs == []
    final = h.store.current()
    assert (final.status, final.error_reason) == (RunStatus.CANCELLED, "cancelled")
    assert (final.cancel_requested_by, final.cancel_reason) == ("alice", "stop")
    assert (final.worker_id, final.attempt) == ("w1", 2)
    assert attempts(final) == [(1, AttemptStatus.LOST), (2, AttemptStatus.CANCELLED)]
    assert h.dead_letters.letters == []


# --- reads before the claim ------------------------------------------------------------------


def test_a_first_delivery_claims_without_reading_the_store() -> None:
    job = dataclasses.replace(JOB, snapshot_revision=1)
    h = harness(RunSnapshot.pending(job))

    status = h.handle(job, attempt=1)

    assert status is RunStatus.COMPLETED
    assert h.store.gets == 0
    assert h.log == [
        "write RUNNING",
        f"started {RUN_ID}",
        "execute",
        "write COMPLETED",
        "ack",
        f"ended {RUN_ID} COMPLETED",
    ]


def test_a_first_delivery_of_a_run_cancelled_while_queued_finds_out_at_its_claim() -> None:
    job = dataclasses.replace(JOB, snapshot_revision=1)
    store_snapshot = RunSnapshot.pending(job)
    h = harness(store_snapshot)
    cancelled = store_snapshot.cancel_requested(50.0, "alice", None)
    h.store.put(cancelled)

    status = h.handle(job, attempt=1)

    assert status is None
    assert h.log == ["get", "ack"], "the lost claim read the run, saw it ended, and acked"
    assert h.executor.jobs == []
    assert h.store.current() == cancelled


@pytest.mark.parametrize(
    ("attempt_base", "attempt"), [(0, 2), (3, 1)], ids=["redelivery", "redriven"]
)
def test_other_deliveries_read_the_store_before_claiming(attempt_base: int, attempt: int) -> None:
    job = dataclasses.replace(JOB, snapshot_revision=1, attempt_base=attempt_base)
    h = harness(RunSnapshot.pending(job))

    assert h.handle(job, attempt=attempt) is RunStatus.COMPLETED
    assert h.log[:2] == ["get", "write RUNNING"]
    assert h.store.gets == 1


# --- attempt numbering and the observer -------------------------------------------------------


def test_the_attempt_is_the_attempt_base_plus_the_delivery_count() -> None:
    job = dataclasses.replace(JOB, attempt_base=3)
    redriven = (
        RunSnapshot.pending(job)
        .claimed("w0", 3, 10.0)
        .finished(RunStatus.FAILED, 11.0, error="boom", reason="execution_error")
        .requeued(20.0)
    )
    h = harness(redriven, outcome=BOOM)

    assert h.handle(job, attempt=2) is RunStatus.FAILED

    final = h.store.current()
    assert (final.worker_id, final.attempt) == ("w1", 5)
    assert attempts(final) == [(3, AttemptStatus.FAILED), (5, AttemptStatus.FAILED)]
    (letter,) = h.dead_letters.letters
    assert letter.num_delivered == 5


def test_the_observer_hears_of_the_start_and_the_end_with_the_final_snapshot() -> None:
    h = harness(RunSnapshot.pending(JOB))
    during: list[bool] = []

    async def look(on_progress: ProgressCallback) -> None:
        during.append(RUN_ID in h.runner.active)

    h.executor.during_run = look

    h.handle(JOB)

    assert during == [True]
    assert h.log.index(f"started {RUN_ID}") < h.log.index("execute")
    assert h.log[-1] == f"ended {RUN_ID} COMPLETED"
    assert h.observer.ended == [h.store.current()]
    assert h.runner.active == {}


def test_stop_reaches_the_control_of_a_run_in_flight() -> None:
    h = harness(RunSnapshot.pending(JOB))
    seen: list[tuple[bool, StopReason | None]] = []

    async def stop_it(on_progress: ProgressCallback) -> None:
        stopped = h.runner.stop(RUN_ID, StopReason.CANCEL)
        seen.append((stopped, h.runner.active[RUN_ID].control.reason))

    h.executor.during_run = stop_it

    h.handle(JOB)

    assert seen == [(True, StopReason.CANCEL)]
    assert h.runner.stop(RUN_ID, StopReason.CANCEL) is False, "not running here any more"
