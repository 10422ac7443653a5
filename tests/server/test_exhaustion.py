"""MaxDeliveriesHandler: a job whose deliveries ran out ends FAILED, dead-lettered and removed."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from pyoco_server.codec import encode_dead_letter, encode_job
from pyoco_server.exhaustion import MaxDeliveriesHandler
from pyoco_server.messages import DeadLetter, DeadLetterReason, Job, MaxDeliveriesAdvisory
from pyoco_server.settings import Settings
from pyoco_server.snapshot import AttemptStatus, FailureReason, RunSnapshot, RunStatus
from pyoco_server.subjects import Subjects
from tests.worker.test_snapshots import FakeRunStore

T = TypeVar("T")
NOW = 900.0
RUN_ID = "run-1"
SEQ = 42
SUBJECT = "pyoco.work.gpu"
JOB = Job(RUN_ID, "main", "gpu", ("gpu",), {"x": 1}, 1.0, snapshot_revision=1)
PENDING = RunSnapshot.pending(JOB)
RUNNING = PENDING.claimed("w1", 1, 10.0).claimed("w2", 2, 20.0)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def advisory(seq: int = SEQ, deliveries: int = 2) -> MaxDeliveriesAdvisory:
    return MaxDeliveriesAdvisory("PYOCO_WORK", "pyoco_workers_gpu", seq, deliveries)


class FakeWorkStream:
    """A `WorkStream`: messages (subject, payload) by sequence; remembers what was deleted."""

    def __init__(self, messages: dict[int, tuple[str, bytes]] | None = None) -> None:
        self.messages = dict(messages or {})
        self.deleted: list[int] = []

    async def get(self, sequence: int) -> tuple[str, bytes] | None:
        return self.messages.get(sequence)

    async def delete(self, sequence: int) -> None:
        self.deleted.append(sequence)
        self.messages.pop(sequence, None)


class ListDeadLetters:
    """A dead-letter sink that keeps what it is given (checked by the codec)."""

    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    async def publish(self, letter: DeadLetter) -> None:
        encode_dead_letter(letter)
        self.letters.append(letter)


class InterferingRunStore(FakeRunStore):
    """A run store where another writer lands `interfere()` just before each of our updates."""

    def __init__(self, *snapshots: RunSnapshot, times: int = 1) -> None:
        super().__init__(*snapshots)
        self.interfere: Callable[[RunSnapshot], RunSnapshot] = lambda current: current
        self.times = times

    async def update(self, snapshot: RunSnapshot, revision: int) -> int:
        if self.times > 0:
            self.times -= 1
            self.put(self.interfere(self.current(snapshot.run_id)))
        return await super().update(snapshot, revision)


@dataclasses.dataclass
class Harness:
    store: FakeRunStore
    work: FakeWorkStream
    dead_letters: ListDeadLetters
    handler: MaxDeliveriesHandler

    def handle(self, advisory: MaxDeliveriesAdvisory) -> None:
        run(asyncio.wait_for(self.handler.handle(advisory), 5.0))


def harness(store: FakeRunStore, messages: dict[int, tuple[str, bytes]] | None = None) -> Harness:
    work = FakeWorkStream({SEQ: (SUBJECT, encode_job(JOB))} if messages is None else messages)
    dead_letters = ListDeadLetters()
    handler = MaxDeliveriesHandler(
        store, dead_letters, work, Subjects.from_settings(Settings()), clock=lambda: NOW
    )
    return Harness(store, work, dead_letters, handler)


@pytest.mark.parametrize("snapshot", [RUNNING, PENDING], ids=["running", "pending"])
def test_an_exhausted_job_fails_its_run(snapshot: RunSnapshot) -> None:
    h = harness(FakeRunStore(snapshot))

    h.handle(advisory(deliveries=5))

    final = h.store.current()
    assert final.status is RunStatus.FAILED
    assert final.error_reason == FailureReason.MAX_DELIVERIES_EXCEEDED
    assert final.error is not None
    assert final.error.startswith("max_deliveries_exceeded: the job was delivered 5 times")
    assert final.end_time == NOW
    assert len(h.store.writes) == 1


def test_the_failed_run_closes_its_running_attempt() -> None:
    h = harness(FakeRunStore(RUNNING))

    h.handle(advisory())

    attempts = h.store.current().attempts
    assert [(a.attempt, a.status) for a in attempts] == [
        (1, AttemptStatus.LOST),
        (2, AttemptStatus.FAILED),
    ]
    assert attempts[-1].error_reason == "max_deliveries_exceeded"
    assert attempts[-1].ended_at == NOW


def test_an_exhausted_job_gets_one_dead_letter_with_its_job() -> None:
    h = harness(FakeRunStore(RUNNING))

    h.handle(advisory(deliveries=3))

    (letter,) = h.dead_letters.letters
    assert letter.reason is DeadLetterReason.MAX_DELIVERIES_EXCEEDED
    assert letter.job == JOB
    assert (letter.tag, letter.subject) == ("gpu", SUBJECT)
    assert (letter.run_id, letter.flow_name) == (RUN_ID, "main")
    assert (letter.num_delivered, letter.timestamp) == (3, NOW)
    assert letter.error == "delivered 3 times without finishing"
    assert letter.worker_id is None
    assert letter.payload is None


def test_the_dead_letter_tag_comes_from_the_subject() -> None:
    h = harness(FakeRunStore(RUNNING), {SEQ: ("pyoco.work.other-tag", encode_job(JOB))})

    h.handle(advisory())

    (letter,) = h.dead_letters.letters
    assert (letter.tag, letter.subject) == ("other-tag", "pyoco.work.other-tag")


def test_an_exhausted_job_is_deleted_from_the_work_stream() -> None:
    h = harness(FakeRunStore(RUNNING))

    h.handle(advisory())

    assert h.work.deleted == [SEQ]
    assert h.work.messages == {}


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED])
def test_an_ended_run_is_left_untouched_but_its_message_is_deleted(status: RunStatus) -> None:
    ended = RUNNING.finished(status, 50.0)
    h = harness(FakeRunStore(ended))

    h.handle(advisory())

    assert h.store.current() == ended
    assert h.store.writes == []
    assert h.work.deleted == [SEQ]


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.CANCELLED])
def test_an_ended_run_gets_no_dead_letter(status: RunStatus) -> None:
    h = harness(FakeRunStore(RUNNING.finished(status, 50.0)))

    h.handle(advisory())

    assert h.dead_letters.letters == []


def test_a_message_already_gone_does_nothing() -> None:
    h = harness(FakeRunStore(RUNNING), messages={})

    h.handle(advisory())

    assert h.store.current() == RUNNING
    assert h.store.writes == []
    assert h.dead_letters.letters == []
    assert h.work.deleted == []


@pytest.mark.parametrize(
    "payload", [b"not json", b"{}", b'{"run_id": "run-1"}'], ids=["bytes", "empty", "partial"]
)
def test_a_message_that_is_not_a_job_is_deleted_without_a_dead_letter(payload: bytes) -> None:
    h = harness(FakeRunStore(RUNNING), {SEQ: (SUBJECT, payload)})

    h.handle(advisory())

    assert h.work.deleted == [SEQ]
    assert h.dead_letters.letters == []
    assert h.store.current() == RUNNING


def test_only_the_advised_sequence_is_touched() -> None:
    other = (SUBJECT, encode_job(dataclasses.replace(JOB, run_id="run-2")))
    h = harness(FakeRunStore(RUNNING), {SEQ: (SUBJECT, encode_job(JOB)), SEQ + 1: other})

    h.handle(advisory())

    assert h.work.messages == {SEQ + 1: other}


def test_a_concurrent_snapshot_change_is_retried_and_kept() -> None:
    store = InterferingRunStore(RUNNING)
    store.interfere = lambda current: current.heartbeat(77.0)._evolve(tags=("gpu", "seen"))
    h = harness(store)

    h.handle(advisory())

    final = store.current()
    assert store.conflicts == 1
    assert final.status is RunStatus.FAILED
    assert final.error_reason == "max_deliveries_exceeded"
    assert final.tags == ("gpu", "seen"), "the failed snapshot is built on the concurrent write"
    assert len(h.dead_letters.letters) == 1
    assert h.work.deleted == [SEQ]


def test_a_run_that_ends_concurrently_is_not_overwritten() -> None:
    store = InterferingRunStore(RUNNING)
    store.interfere = lambda current: current.finished(RunStatus.COMPLETED, 60.0)
    h = harness(store)

    h.handle(advisory())

    assert store.current().status is RunStatus.COMPLETED
    assert store.writes == []
    assert h.work.deleted == [SEQ]


def test_a_run_whose_snapshot_is_gone_is_not_recreated() -> None:
    h = harness(FakeRunStore())

    h.handle(advisory())

    assert run(h.store.get(RUN_ID)) is None
    assert h.work.deleted == [SEQ]
