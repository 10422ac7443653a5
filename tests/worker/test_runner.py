"""JobRunner: each kind of delivery ends with the right snapshot, queue action and dead letter."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

import pytest

from pyoco_server.codec import encode_dead_letter, encode_job
from pyoco_server.errors import BackendUnavailable
from pyoco_server.messages import DeadLetter, DeadLetterReason, Job
from pyoco_server.settings import Settings
from pyoco_server.snapshot import FailureReason, RunSnapshot, RunStatus, TaskRecord, TaskState
from pyoco_worker.execution import Outcome, Progress, ProgressCallback, RunControl
from pyoco_worker.runner import JobRunner
from tests.worker.test_snapshots import NOW, PENDING, RUN_ID, FakeRunStore

JOB = Job(
    run_id=RUN_ID,
    flow_name="main",
    tag="default",
    tags=("default",),
    params={"x": 1},
    submitted_at=1.0,
)
COMPLETED = Outcome(
    RunStatus.COMPLETED,
    {"add_one": TaskState.SUCCEEDED},
    {"add_one": TaskRecord(state=TaskState.SUCCEEDED, output=2)},
)


@dataclasses.dataclass
class FakeDelivery:
    """A delivery that records what the runner did with it in `log`."""

    data: bytes
    log: list[str]
    subject: str = "pyoco.work.default"
    attempt: int = 1
    nak_error: BackendUnavailable | None = None

    async def ack(self) -> None:
        self.log.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.log.append(f"nak {delay}")
        if self.nak_error is not None:
            raise self.nak_error

    async def term(self) -> None:
        self.log.append("term")

    async def in_progress(self) -> None:
        self.log.append("in_progress")


class FakeDeadLetters:
    """A dead-letter sink that keeps what it is given (validated by the codec)."""

    def __init__(self, log: list[str]) -> None:
        self.letters: list[DeadLetter] = []
        self.log = log

    async def publish(self, letter: DeadLetter) -> None:
        encode_dead_letter(letter)
        self.letters.append(letter)
        self.log.append(f"dead letter {letter.reason}")


class FakeExecutor:
    """Returns a canned outcome, after calling `during_run` (if set)."""

    def __init__(self, outcome: Outcome, log: list[str]) -> None:
        self.outcome = outcome
        self.jobs: list[Job] = []
        self.log = log
        self.during_run: Callable[[ProgressCallback], Awaitable[None]] | None = None

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def execute(
        self, job: Job, on_progress: ProgressCallback, control: RunControl
    ) -> Outcome:
        self.jobs.append(job)
        self.log.append("execute")
        if self.during_run is not None:
            await self.during_run(on_progress)
        return self.outcome


@dataclasses.dataclass
class Harness:
    """A runner wired to fakes that share one event log."""

    store: FakeRunStore
    dead_letters: FakeDeadLetters
    executor: FakeExecutor
    runner: JobRunner
    log: list[str]

    def delivery(
        self,
        data: bytes | None = None,
        *,
        subject: str = "pyoco.work.default",
        attempt: int = 1,
        nak_error: BackendUnavailable | None = None,
    ) -> FakeDelivery:
        raw = encode_job(JOB) if data is None else data
        return FakeDelivery(raw, self.log, subject, attempt, nak_error)

    def handle(self, delivery: FakeDelivery) -> RunStatus | None:
        return asyncio.run(asyncio.wait_for(self.runner.handle(delivery), 10.0))


def harness(
    *snapshots: RunSnapshot,
    outcome: Outcome = COMPLETED,
    settings: Settings | None = None,
) -> Harness:
    log: list[str] = []
    store = FakeRunStore(*snapshots, log=log)
    dead_letters = FakeDeadLetters(log)
    executor = FakeExecutor(outcome, log)
    runner = JobRunner(
        store=store,
        dead_letters=dead_letters,
        executor=executor,
        settings=settings or Settings(),
        worker_id="w1",
        clock=lambda: NOW,
    )
    return Harness(store, dead_letters, executor, runner, log)


def failed(reason: FailureReason, error: str) -> Outcome:
    return Outcome(RunStatus.FAILED, {}, {}, error, reason)


def test_a_valid_job_runs_and_is_acked_after_the_terminal_write() -> None:
    h = harness(PENDING)

    status = h.handle(h.delivery(attempt=3))

    assert status is RunStatus.COMPLETED
    assert h.log == ["write RUNNING", "execute", "write COMPLETED", "ack"]
    assert h.executor.jobs == [JOB]
    final = h.store.current()
    assert (final.status, final.worker_id, final.attempt) == (RunStatus.COMPLETED, "w1", 3)
    assert final.task_records == COMPLETED.records
    assert h.dead_letters.letters == []


def test_progress_reported_by_the_executor_is_written() -> None:
    h = harness(PENDING, settings=Settings(snapshot_flush_interval_sec=0.001))
    running = Progress({"add_one": TaskState.RUNNING}, {"add_one": TaskRecord(TaskState.RUNNING)})

    async def report_progress(on_progress: ProgressCallback) -> None:
        on_progress(running)
        await h.store.wait_for_writes(2)

    h.executor.during_run = report_progress

    h.handle(h.delivery())

    assert h.log == ["write RUNNING", "execute", "write RUNNING", "write COMPLETED", "ack"]
    assert h.store.writes[1].tasks == {"add_one": TaskState.RUNNING}


def test_invalid_bytes_are_terminated_and_dead_lettered_with_an_excerpt() -> None:
    h = harness(PENDING)
    raw = b"x" * 5000

    status = h.handle(h.delivery(raw, subject="pyoco.work.gpu", attempt=2))

    assert status is None
    assert h.log == ["dead letter invalid_job", "term"]
    (letter,) = h.dead_letters.letters
    assert letter.reason is DeadLetterReason.INVALID_JOB
    assert letter.payload == "x" * 4096
    assert (letter.tag, letter.subject) == ("gpu", "pyoco.work.gpu")
    assert (letter.worker_id, letter.num_delivered, letter.timestamp) == ("w1", 2, NOW)
    assert letter.run_id is None
    assert letter.job is None
    assert "not UTF-8 JSON" in letter.error
    assert h.executor.jobs == []
    assert h.store.current() == PENDING


def test_schema_invalid_job_is_dead_lettered_with_the_reason() -> None:
    h = harness(PENDING)
    raw = encode_job(JOB).replace(b'"tag":"default"', b'"tag":"no.dots"')

    h.handle(h.delivery(raw))

    (letter,) = h.dead_letters.letters
    assert letter.reason is DeadLetterReason.INVALID_JOB
    assert "tag" in letter.error
    assert letter.payload == raw.decode()
    assert h.log[-1] == "term"


def test_deeply_nested_bytes_are_terminated_and_dead_lettered() -> None:
    h = harness(PENDING)

    h.handle(h.delivery(b"[" * 100_000 + b"]" * 100_000))

    assert h.log == ["dead letter invalid_job", "term"]


def test_non_utf8_payload_excerpt_is_decoded_with_replacement() -> None:
    h = harness(PENDING)

    h.handle(h.delivery(b'{"run_id": "\xff"}'))

    (letter,) = h.dead_letters.letters
    assert letter.payload == '{"run_id": "\ufffd"}'


def test_unknown_run_is_acked_and_not_run() -> None:
    h = harness()

    status = h.handle(h.delivery())

    assert status is None
    assert h.log == ["ack"]
    assert h.executor.jobs == []
    assert h.dead_letters.letters == []


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED])
def test_terminal_run_is_acked_without_executing(status: RunStatus) -> None:
    ended = PENDING.claimed("w0", 1, 5.0).finished(status, 6.0)
    h = harness(ended)

    result = h.handle(h.delivery(attempt=2))

    assert result is None
    assert h.log == ["ack"]
    assert h.executor.jobs == []
    assert h.store.current() == ended


def test_run_owned_by_a_newer_attempt_is_left_alone() -> None:
    owned = PENDING.claimed("w2", 5, 5.0)
    h = harness(owned)

    result = h.handle(h.delivery(attempt=3))

    assert result is None
    assert h.log == []
    assert h.executor.jobs == []
    assert h.store.current() == owned


@pytest.mark.parametrize("reason", [FailureReason.FLOW_NOT_FOUND, FailureReason.INVALID_WORKFLOW])
def test_flow_not_found_is_dead_lettered_and_acked_after_the_terminal_write(
    reason: FailureReason,
) -> None:
    h = harness(PENDING, outcome=failed(reason, f"{reason}: no such flow"))

    status = h.handle(h.delivery(attempt=2))

    assert status is RunStatus.FAILED
    (letter,) = h.dead_letters.letters
    assert letter.reason is DeadLetterReason.FLOW_NOT_FOUND
    assert letter.error == f"{reason}: no such flow"
    assert (letter.run_id, letter.flow_name, letter.tag) == (RUN_ID, "main", "default")
    assert (letter.worker_id, letter.num_delivered, letter.subject) == (
        "w1",
        2,
        "pyoco.work.default",
    )
    assert letter.job == JOB
    final = h.store.current()
    assert (final.status, final.error_reason) == (RunStatus.FAILED, reason.value)
    assert "dead letter flow_not_found" in h.log
    assert h.log[-1] == "ack"
    assert h.log.index("ack") > h.log.index("write FAILED")


def test_execution_error_is_dead_lettered() -> None:
    h = harness(PENDING, outcome=failed(FailureReason.EXECUTION_ERROR, "ValueError: boom"))

    status = h.handle(h.delivery())

    assert status is RunStatus.FAILED
    (letter,) = h.dead_letters.letters
    assert letter.reason is DeadLetterReason.EXECUTION_ERROR
    assert letter.error == "ValueError: boom"
    assert h.store.current().error == "ValueError: boom"
    assert h.log[-2:] == ["write FAILED", "ack"]


def test_execution_error_is_not_dead_lettered_when_disabled() -> None:
    settings = Settings(dlq_publish_execution_error=False)
    h = harness(
        PENDING,
        outcome=failed(FailureReason.EXECUTION_ERROR, "ValueError: boom"),
        settings=settings,
    )

    status = h.handle(h.delivery())

    assert status is RunStatus.FAILED
    assert h.dead_letters.letters == []
    assert h.log == ["write RUNNING", "execute", "write FAILED", "ack"]


def test_flow_not_found_is_dead_lettered_even_when_execution_errors_are_not() -> None:
    h = harness(
        PENDING,
        outcome=failed(FailureReason.FLOW_NOT_FOUND, "flow_not_found: x"),
        settings=Settings(dlq_publish_execution_error=False),
    )

    h.handle(h.delivery())

    assert [letter.reason for letter in h.dead_letters.letters] == [DeadLetterReason.FLOW_NOT_FOUND]


def test_backend_unavailable_from_the_store_naks_the_job() -> None:
    h = harness(PENDING)
    h.store.unavailable = BackendUnavailable("NATS is down")

    status = h.handle(h.delivery())

    assert status is None
    assert h.log == ["nak 2.0"]
    assert h.executor.jobs == []


def test_backend_unavailable_at_the_terminal_write_naks_instead_of_acking() -> None:
    h = harness(PENDING)

    async def lose_nats(on_progress: ProgressCallback) -> None:
        h.store.unavailable = BackendUnavailable("NATS is down")

    h.executor.during_run = lose_nats

    status = h.handle(h.delivery())

    assert status is None
    assert h.log == ["write RUNNING", "execute", "nak 2.0"]
    assert h.store.current().status is RunStatus.RUNNING


def test_a_failing_nak_is_not_raised() -> None:
    h = harness(PENDING)
    h.store.unavailable = BackendUnavailable("NATS is down")

    status = h.handle(h.delivery(nak_error=BackendUnavailable("still down")))

    assert status is None
    assert h.log == ["nak 2.0"]
