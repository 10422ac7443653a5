"""MaxDeliveriesHandler: a job whose deliveries ran out ends FAILED, dead-lettered and removed."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from pyoco_server.domain.codec import JOB
from pyoco_server.domain.records import DeadLetterReason, Job, MaxDeliveriesAdvisory
from pyoco_server.domain.snapshot import AttemptStatus, FailureReason, RunSnapshot, RunStatus
from pyoco_server.domain.subjects import Subjects
from pyoco_server.memory import MemoryBackend, MemoryDeadLetters, MemoryRunStore
from pyoco_server.services.exhaustion import MaxDeliveriesHandler
from tests.support.fakes import Spy
from tests.support.memory import backend_with, racing_writes

T = TypeVar("T")
NOW = 900.0
RUN_ID = "run-1"
SEQ = 1
"""The sequence of the first message of the work stream."""
SUBJECT = "pyoco.work.gpu"
A_JOB = Job(RUN_ID, "main", "gpu", ("gpu",), {"x": 1}, 1.0, snapshot_revision=1)
PENDING = RunSnapshot.pending(A_JOB)
RUNNING = PENDING.claimed("w1", 1, 10.0).claimed("w2", 2, 20.0)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def advisory(seq: int = SEQ, deliveries: int = 2) -> MaxDeliveriesAdvisory:
    return MaxDeliveriesAdvisory("PYOCO_WORK", "pyoco_workers_gpu", seq, deliveries)


@dataclasses.dataclass
class Harness:
    """The handler on a memory backend whose work stream gets `messages` (seq 1, 2, ...)."""

    backend: MemoryBackend
    store: Spy
    work: Spy
    messages: list[tuple[str, bytes]]

    @property
    def runs(self) -> MemoryRunStore:
        return self.backend.runs

    @property
    def dead_letters(self) -> MemoryDeadLetters:
        return self.backend.dead_letters

    @property
    def deleted(self) -> list[int]:
        """The work-stream messages the handler deleted."""
        return [call.arguments["sequence"] for call in self.work.calls_to("delete")]

    @property
    def remaining(self) -> dict[int, tuple[str, bytes]]:
        """The messages left in the work stream."""
        return {seq: (m.subject, m.data) for seq, m in self.backend.work.messages.items()}

    def handle(self, advisory: MaxDeliveriesAdvisory) -> None:
        async def scenario() -> None:
            for n, (subject, payload) in enumerate(self.messages, start=1):
                self.backend.work.add(subject, payload, msg_id=f"message-{n}")
            handler = MaxDeliveriesHandler(
                self.store,
                self.backend.dead_letters,
                self.work,
                Subjects.from_settings(self.backend.settings),
                clock=lambda: NOW,
            )
            await asyncio.wait_for(handler.handle(advisory), 5.0)

        run(scenario())


def harness(
    *snapshots: RunSnapshot,
    messages: list[tuple[str, bytes]] | None = None,
    store: Callable[[MemoryRunStore], Spy] = Spy,
) -> Harness:
    """The handler's world: a run store holding `snapshots` (seen through `store`), and a work
    stream holding `messages` (default: the job of `A_JOB` at `SEQ`)."""
    backend = backend_with(*snapshots)
    queued = [(SUBJECT, JOB.encode(A_JOB))] if messages is None else messages
    return Harness(backend, store(backend.runs), Spy(backend.work), queued)


@pytest.mark.parametrize("snapshot", [RUNNING, PENDING], ids=["running", "pending"])
def test_an_exhausted_job_fails_its_run(snapshot: RunSnapshot) -> None:
    h = harness(snapshot)

    h.handle(advisory(deliveries=5))

    final = h.runs.current(RUN_ID)
    assert final.status is RunStatus.FAILED
    assert final.error_reason == FailureReason.MAX_DELIVERIES_EXCEEDED
    assert final.error is not None
    assert final.error.startswith("max_deliveries_exceeded: the job was delivered 5 times")
    assert final.end_time == NOW
    assert len(h.runs.writes) == 1


def test_the_failed_run_closes_its_running_attempt() -> None:
    h = harness(RUNNING)

    h.handle(advisory())

    attempts = h.runs.current(RUN_ID).attempts
    assert [(a.attempt, a.status) for a in attempts] == [
        (1, AttemptStatus.LOST),
        (2, AttemptStatus.FAILED),
    ]
    assert attempts[-1].error_reason == "max_deliveries_exceeded"
    assert attempts[-1].ended_at == NOW


def test_an_exhausted_job_gets_one_dead_letter_with_its_job() -> None:
    h = harness(RUNNING)

    h.handle(advisory(deliveries=3))

    (letter,) = h.dead_letters.letters
    assert letter.reason is DeadLetterReason.MAX_DELIVERIES_EXCEEDED
    assert letter.job == A_JOB
    assert (letter.tag, letter.subject) == ("gpu", SUBJECT)
    assert (letter.run_id, letter.flow_name) == (RUN_ID, "main")
    assert (letter.num_delivered, letter.timestamp) == (3, NOW)
    assert letter.error == "delivered 3 times without finishing"
    assert letter.worker_id is None
    assert letter.payload is None


def test_the_dead_letter_tag_comes_from_the_subject() -> None:
    h = harness(RUNNING, messages=[("pyoco.work.other-tag", JOB.encode(A_JOB))])

    h.handle(advisory())

    (letter,) = h.dead_letters.letters
    assert (letter.tag, letter.subject) == ("other-tag", "pyoco.work.other-tag")


def test_an_exhausted_job_is_deleted_from_the_work_stream() -> None:
    h = harness(RUNNING)

    h.handle(advisory())

    assert h.deleted == [SEQ]
    assert h.remaining == {}


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED])
def test_an_ended_run_is_left_untouched_but_its_message_is_deleted(status: RunStatus) -> None:
    ended = RUNNING.finished(status, 50.0)
    h = harness(ended)

    h.handle(advisory())

    assert h.runs.current(RUN_ID) == ended
    assert h.runs.writes == []
    assert h.deleted == [SEQ]


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.CANCELLED])
def test_an_ended_run_gets_no_dead_letter(status: RunStatus) -> None:
    h = harness(RUNNING.finished(status, 50.0))

    h.handle(advisory())

    assert h.dead_letters.letters == []


def test_a_message_already_gone_does_nothing() -> None:
    h = harness(RUNNING, messages=[])

    h.handle(advisory())

    assert h.runs.current(RUN_ID) == RUNNING
    assert h.runs.writes == []
    assert h.dead_letters.letters == []
    assert h.deleted == []


@pytest.mark.parametrize(
    "payload", [b"not json", b"{}", b'{"run_id": "run-1"}'], ids=["bytes", "empty", "partial"]
)
def test_a_message_that_is_not_a_job_is_deleted_without_a_dead_letter(payload: bytes) -> None:
    h = harness(RUNNING, messages=[(SUBJECT, payload)])

    h.handle(advisory())

    assert h.deleted == [SEQ]
    assert h.dead_letters.letters == []
    assert h.runs.current(RUN_ID) == RUNNING


def test_only_the_advised_sequence_is_touched() -> None:
    other = (SUBJECT, JOB.encode(dataclasses.replace(A_JOB, run_id="run-2")))
    h = harness(RUNNING, messages=[(SUBJECT, JOB.encode(A_JOB)), other])

    h.handle(advisory())

    assert h.remaining == {SEQ + 1: other}


def test_a_concurrent_snapshot_change_is_retried_and_kept() -> None:
    h = harness(
        RUNNING,
        store=lambda runs: racing_writes(
            runs, lambda current: current.heartbeat(77.0)._evolve(tags=("gpu", "seen"))
        ),
    )

    h.handle(advisory())

    final = h.runs.current(RUN_ID)
    assert h.runs.conflicts == 1
    assert final.status is RunStatus.FAILED
    assert final.error_reason == "max_deliveries_exceeded"
    assert final.tags == ("gpu", "seen"), "the failed snapshot is built on the concurrent write"
    assert len(h.dead_letters.letters) == 1
    assert h.deleted == [SEQ]


def test_a_run_that_ends_concurrently_is_not_overwritten() -> None:
    h = harness(
        RUNNING,
        store=lambda runs: racing_writes(
            runs, lambda current: current.finished(RunStatus.COMPLETED, 60.0)
        ),
    )

    h.handle(advisory())

    assert h.runs.current(RUN_ID).status is RunStatus.COMPLETED
    assert h.runs.writes == []
    assert h.deleted == [SEQ]


def test_a_run_whose_snapshot_is_gone_is_not_recreated() -> None:
    h = harness()

    h.handle(advisory())

    assert run(h.runs.get(RUN_ID)) is None
    assert h.deleted == [SEQ]
