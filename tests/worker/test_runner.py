"""JobRunner: each kind of delivery ends with the right snapshot, queue action and dead letter."""

from __future__ import annotations

import asyncio

import pytest

from pyoco_server.domain.codec import JOB
from pyoco_server.domain.errors import BackendUnavailable
from pyoco_server.domain.records import DeadLetterReason
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import (
    FailureReason,
    RunSnapshot,
    RunStatus,
    TaskRecord,
    TaskState,
)
from pyoco_worker.execution import Outcome, Progress, ProgressCallback
from tests.support.fakes import COMPLETED, failed
from tests.support.runner import RunnerHarness, runner_harness
from tests.support.samples import A_JOB, NOW, PENDING, RUN_ID, job


def harness(
    *snapshots: RunSnapshot, outcome: Outcome = COMPLETED, settings: Settings | None = None
) -> RunnerHarness:
    return runner_harness(*snapshots, outcome=outcome, settings=settings)


def test_a_valid_job_runs_and_is_acked_after_the_terminal_write() -> None:
    h = harness(PENDING)

    status = h.deliver(h.delivery(attempt=3))

    assert status is RunStatus.COMPLETED
    assert h.log == ["write RUNNING", "execute", "write COMPLETED", "ack"]
    assert h.executor.jobs == [A_JOB]
    final = h.store.current(RUN_ID)
    assert (final.status, final.worker_id, final.attempt) == (RunStatus.COMPLETED, "w1", 3)
    assert final.task_records == COMPLETED.records
    assert h.dead_letters.letters == []


def test_progress_reported_by_the_executor_is_written() -> None:
    h = harness(PENDING, settings=Settings(snapshot_flush_interval_sec=0.001))
    running = Progress({"add_one": TaskState.RUNNING}, {"add_one": TaskRecord(TaskState.RUNNING)})

    async def report_progress(on_progress: ProgressCallback) -> None:
        on_progress(running)
        await h.store.wait_for(lambda: len(h.store.writes) >= 2)

    h.executor.during_run = report_progress

    h.deliver(h.delivery())

    assert h.log == ["write RUNNING", "execute", "write RUNNING", "write COMPLETED", "ack"]
    assert h.store.writes[1].tasks == {"add_one": TaskState.RUNNING}


def test_invalid_bytes_are_terminated_and_dead_lettered_with_an_excerpt() -> None:
    h = harness(PENDING)
    raw = b"x" * 5000

    status = h.deliver(h.delivery(raw, subject="pyoco.work.gpu", attempt=2))

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
    assert h.store.current(RUN_ID) == PENDING


def test_schema_invalid_job_is_dead_lettered_with_the_reason() -> None:
    h = harness(PENDING)
    raw = JOB.encode(A_JOB).replace(b'"tag":"default"', b'"tag":"no.dots"')

    h.deliver(h.delivery(raw))

    (letter,) = h.dead_letters.letters
    assert letter.reason is DeadLetterReason.INVALID_JOB
    assert "tag" in letter.error
    assert letter.payload == raw.decode()
    assert h.log[-1] == "term"


def test_deeply_nested_bytes_are_terminated_and_dead_lettered() -> None:
    h = harness(PENDING)

    h.deliver(h.delivery(b"[" * 100_000 + b"]" * 100_000))

    assert h.log == ["dead letter invalid_job", "term"]


def test_non_utf8_payload_excerpt_is_decoded_with_replacement() -> None:
    h = harness(PENDING)

    h.deliver(h.delivery(b'{"run_id": "\xff"}'))

    (letter,) = h.dead_letters.letters
    assert letter.payload == '{"run_id": "\ufffd"}'


def test_a_job_that_comes_before_its_run_is_stored_stores_the_run_and_runs_it() -> None:
    """The gateway queues a job before it stores the run: a quick worker stores it first."""
    h = harness()

    status = h.deliver(h.delivery())

    assert status is RunStatus.COMPLETED
    assert h.log[:2] == ["write PENDING", "write RUNNING"]
    assert h.log[-1] == "ack"
    assert [job.run_id for job in h.executor.jobs] == [RUN_ID]
    assert h.store.current(RUN_ID).job_seq == 1


def test_a_redriven_job_whose_run_was_removed_is_acked_and_not_run() -> None:
    h = harness()

    status = h.deliver(h.delivery(JOB.encode(job(RUN_ID, attempt_base=3))))

    assert status is None
    assert h.log == ["ack"]
    assert h.executor.jobs == []
    assert h.dead_letters.letters == []


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED])
def test_terminal_run_is_acked_without_executing(status: RunStatus) -> None:
    ended = PENDING.claimed("w0", 1, 5.0).finished(status, 6.0)
    h = harness(ended)

    result = h.deliver(h.delivery(attempt=2))

    assert result is None
    assert h.log == ["ack"]
    assert h.executor.jobs == []
    assert h.store.current(RUN_ID) == ended


def test_run_owned_by_a_newer_attempt_is_left_alone() -> None:
    owned = PENDING.claimed("w2", 5, 5.0)
    h = harness(owned)

    result = h.deliver(h.delivery(attempt=3))

    assert result is None
    assert h.log == []
    assert h.executor.jobs == []
    assert h.store.current(RUN_ID) == owned


@pytest.mark.parametrize("reason", [FailureReason.FLOW_NOT_FOUND, FailureReason.INVALID_WORKFLOW])
def test_flow_not_found_is_dead_lettered_and_acked_after_the_terminal_write(
    reason: FailureReason,
) -> None:
    h = harness(PENDING, outcome=failed(reason, f"{reason}: no such flow"))

    status = h.deliver(h.delivery(attempt=2))

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
    assert letter.job == A_JOB
    final = h.store.current(RUN_ID)
    assert (final.status, final.error_reason) == (RunStatus.FAILED, reason.value)
    assert "dead letter flow_not_found" in h.log
    assert h.log[-1] == "ack"
    assert h.log.index("ack") > h.log.index("write FAILED")


def test_execution_error_is_dead_lettered() -> None:
    h = harness(PENDING, outcome=failed(FailureReason.EXECUTION_ERROR, "ValueError: boom"))

    status = h.deliver(h.delivery())

    assert status is RunStatus.FAILED
    (letter,) = h.dead_letters.letters
    assert letter.reason is DeadLetterReason.EXECUTION_ERROR
    assert letter.error == "ValueError: boom"
    assert h.store.current(RUN_ID).error == "ValueError: boom"
    assert h.log[-2:] == ["write FAILED", "ack"]


def test_execution_error_is_not_dead_lettered_when_disabled() -> None:
    settings = Settings(dlq_publish_execution_error=False)
    h = harness(
        PENDING,
        outcome=failed(FailureReason.EXECUTION_ERROR, "ValueError: boom"),
        settings=settings,
    )

    status = h.deliver(h.delivery())

    assert status is RunStatus.FAILED
    assert h.dead_letters.letters == []
    assert h.log == ["write RUNNING", "execute", "write FAILED", "ack"]


def test_flow_not_found_is_dead_lettered_even_when_execution_errors_are_not() -> None:
    h = harness(
        PENDING,
        outcome=failed(FailureReason.FLOW_NOT_FOUND, "flow_not_found: x"),
        settings=Settings(dlq_publish_execution_error=False),
    )

    h.deliver(h.delivery())

    assert [letter.reason for letter in h.dead_letters.letters] == [DeadLetterReason.FLOW_NOT_FOUND]


def test_backend_unavailable_from_the_store_naks_the_job() -> None:
    h = harness(PENDING)
    h.backend.cut()

    status = h.deliver(h.delivery())

    assert status is None
    assert h.log == ["nak 2.0"]
    assert h.executor.jobs == []


def test_backend_unavailable_through_the_terminal_write_naks_instead_of_acking() -> None:
    """NATS away for longer than the end's write is retried (half of AckWait): handed back."""
    h = harness(PENDING, settings=Settings(consumer_ack_wait_sec=0.6))

    async def lose_nats(on_progress: ProgressCallback) -> None:
        h.backend.cut()

    h.executor.during_run = lose_nats

    status = h.deliver(h.delivery())

    assert status is None
    assert h.log == ["write RUNNING", "execute", "nak 2.0"]
    assert h.store.current(RUN_ID).status is RunStatus.RUNNING


def test_a_terminal_write_waits_out_a_short_outage_and_the_job_is_acked() -> None:
    """The tasks ran: a NATS flap at the end must not hand the job back to run them again."""
    h = harness(PENDING, settings=Settings(consumer_ack_wait_sec=10.0))

    async def flap(on_progress: ProgressCallback) -> None:
        h.backend.cut()
        asyncio.get_running_loop().call_later(0.3, h.backend.restore)

    h.executor.during_run = flap

    status = h.deliver(h.delivery())

    assert status is RunStatus.COMPLETED
    assert h.log == ["write RUNNING", "execute", "write COMPLETED", "ack"]
    assert h.executor.jobs == [A_JOB]


def test_a_failing_nak_is_not_raised() -> None:
    h = harness(PENDING)
    h.backend.cut()

    status = h.deliver(h.delivery(nak_error=BackendUnavailable("still down")))

    assert status is None
    assert h.log == ["nak 2.0"]
