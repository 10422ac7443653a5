"""DeadLetterService: paging arguments and every branch of a redrive, on the memory backend."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from pyoco_server.domain.errors import (
    BackendUnavailable,
    DeadLetterNotFound,
    InvalidInput,
    NotRedrivable,
    PayloadTooLarge,
)
from pyoco_server.domain.records import DeadLetter, DeadLetterReason, Job
from pyoco_server.domain.snapshot import FailureReason, RunSnapshot, RunStatus
from pyoco_server.memory import MemoryBackend, MemoryRunStore
from pyoco_server.services.deadletters import DeadLetterService
from tests.support.fakes import Spy
from tests.support.memory import backend_with
from tests.support.samples import PENDING, RUN_ID

T = TypeVar("T")
NOW = 500.0
A_JOB = Job(RUN_ID, "main", "default", ("default",), {"x": 1}, 1.0, snapshot_revision=1)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def failed(attempts: int = 2) -> RunSnapshot:
    snapshot = PENDING
    for attempt in range(1, attempts + 1):
        snapshot = snapshot.claimed("w1", attempt, 10.0 * attempt).finished(
            RunStatus.FAILED,
            10.0 * attempt + 1,
            error="no flow",
            reason=FailureReason.FLOW_NOT_FOUND,
        )
    return snapshot


def letter(job: Job | None = A_JOB, **fields: Any) -> DeadLetter:
    values: dict[str, Any] = {
        "reason": DeadLetterReason.FLOW_NOT_FOUND,
        "error": "no flow",
        "timestamp": 20.0,
        "tag": "default",
        "run_id": RUN_ID,
        "num_delivered": 2,
        **fields,
    }
    return DeadLetter(job=job, **values)


@dataclasses.dataclass
class World:
    """The service on a memory backend; spies on its dead letters and its job queue."""

    backend: MemoryBackend
    dead_letters: Spy
    queue: Spy

    @property
    def store(self) -> MemoryRunStore:
        return self.backend.runs

    @property
    def service(self) -> DeadLetterService:
        return DeadLetterService(self.dead_letters, self.store, self.queue, clock=lambda: NOW)

    @property
    def published(self) -> list[tuple[Job, str | None]]:
        """The jobs the service queued (with their message ids)."""
        calls = self.queue.calls_to("publish")
        return [(call.arguments["job"], call.arguments["msg_id"]) for call in calls]

    @property
    def pages(self) -> list[dict[str, Any]]:
        """What the service asked the dead-letter stream for."""
        return [call.arguments for call in self.dead_letters.calls_to("page")]

    def kept(self, seq: int) -> bool:
        """Whether dead letter `seq` is still stored."""
        return seq in self.backend.dead_letters.records


def world(*snapshots: RunSnapshot, letters: tuple[DeadLetter, ...] = (letter(),)) -> World:
    backend = backend_with(*snapshots)

    async def publish() -> None:
        for item in letters:
            await backend.dead_letters.publish(item)

    run(publish())
    return World(backend, Spy(backend.dead_letters), Spy(backend.jobs))


# Paging


def test_page_passes_the_filters_and_the_cursor_on() -> None:
    here = world()
    run(here.service.page(reason=DeadLetterReason.TIMEOUT, tag="gpu", limit=7, cursor="42"))
    run(here.service.page())
    assert here.pages == [
        {"reason": DeadLetterReason.TIMEOUT, "tag": "gpu", "limit": 7, "before": 42},
        {"reason": None, "tag": None, "limit": 50, "before": None},
    ]


@pytest.mark.parametrize(
    "kwargs", [{"cursor": "4\n"}, {"cursor": "x"}, {"cursor": ""}, {"tag": "a.b"}, {"tag": "a\n"}]
)
def test_page_refuses_a_malformed_cursor_or_tag(kwargs: dict[str, Any]) -> None:
    here = world()
    with pytest.raises(InvalidInput):
        run(here.service.page(**kwargs))
    assert here.pages == []


# Redrive


def test_redrive_requeues_an_ended_run() -> None:
    here = world(failed(attempts=2))
    pending = run(here.service.redrive("1"))

    stored = run(here.store.get(RUN_ID))
    assert stored is not None
    assert stored.snapshot == pending == failed(attempts=2).requeued(NOW).queued_as(1)
    assert pending.status is RunStatus.PENDING
    assert len(pending.attempts) == 2
    ((job, msg_id),) = here.published
    # No revision hint: the requeued snapshot is not the one the worker could rebuild from the job.
    assert job == dataclasses.replace(A_JOB, attempt_base=2, snapshot_revision=None)
    assert msg_id == f"{RUN_ID}:redrive:1"
    assert here.backend.dead_letters.records == {}


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.CANCELLED])
def test_any_ended_run_can_be_redriven(status: RunStatus) -> None:
    here = world(PENDING.claimed("w1", 1, 5.0).finished(status, 6.0))
    assert run(here.service.redrive("1")).status is RunStatus.PENDING


def test_redrive_recreates_a_missing_snapshot() -> None:
    here = world(letters=(letter(job=dataclasses.replace(A_JOB, attempt_base=3)),))
    pending = run(here.service.redrive("1"))
    assert pending.status is RunStatus.PENDING
    assert pending.attempt == 5, "attempt_base 3 + 2 deliveries"
    assert pending.params == {"x": 1}
    assert pending.updated_at == NOW
    ((job, _),) = here.published
    assert job.attempt_base == 5
    assert here.store.current(RUN_ID).attempt == 5


def test_redrive_retries_when_the_run_changes_in_between() -> None:
    here = world(failed())
    real_get = here.store.get
    calls = 0

    async def get_then_race(run_id: str) -> Any:
        nonlocal calls
        calls += 1
        stored = await real_get(run_id)
        if calls == 1:
            here.store.put(dataclasses.replace(failed(), error="rewritten"))
        return stored

    here.store.get = get_then_race  # type: ignore[method-assign]
    run(here.service.redrive("1"))
    assert calls == 2
    assert here.store.current(RUN_ID).status is RunStatus.PENDING
    assert len(here.published) == 1


def test_unknown_dead_letter() -> None:
    with pytest.raises(DeadLetterNotFound) as raised:
        run(world(failed()).service.redrive("9"))
    assert raised.value.dead_letter_id == "9"


@pytest.mark.parametrize("dead_letter_id", ["x", "1\n", "", "1" * 21])
def test_malformed_id(dead_letter_id: str) -> None:
    with pytest.raises(InvalidInput):
        run(world(failed()).service.redrive(dead_letter_id))


def test_a_record_without_a_job_is_not_redrivable() -> None:
    here = world(failed(), letters=(letter(job=None, reason=DeadLetterReason.INVALID_JOB),))
    with pytest.raises(NotRedrivable, match="invalid_job"):
        run(here.service.redrive("1"))
    assert here.published == []
    assert here.kept(1)


@pytest.mark.parametrize(
    ("snapshot", "said"),
    [
        (PENDING, "queued (PENDING)"),
        (PENDING.claimed("w1", 1, 5.0), "still RUNNING"),
        (PENDING.claimed("w1", 1, 5.0).cancel_requested(6.0, None, None), "still CANCELLING"),
    ],
)
def test_a_run_that_has_not_ended_is_not_redrivable(snapshot: RunSnapshot, said: str) -> None:
    here = world(snapshot)
    with pytest.raises(NotRedrivable, match=re.escape(f"run {RUN_ID} is {said}")):
        run(here.service.redrive("1"))
    assert here.store.current(RUN_ID) == snapshot
    assert here.store.writes == []
    assert here.published == []
    assert here.kept(1)


@pytest.mark.parametrize("failure", [BackendUnavailable("down"), PayloadTooLarge("the job", 10, 5)])
def test_a_failed_publish_puts_the_run_back(failure: Exception) -> None:
    here = world(failed())
    here.queue.fail("publish", failure)
    with pytest.raises(type(failure)):
        run(here.service.redrive("1"))
    assert here.store.current(RUN_ID) == failed()
    assert here.kept(1)


def test_a_failed_publish_removes_a_recreated_run() -> None:
    here = world()
    here.queue.fail("publish", BackendUnavailable("down"))
    with pytest.raises(BackendUnavailable):
        run(here.service.redrive("1"))
    assert run(here.store.get(RUN_ID)) is None


def test_a_failed_undo_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    here = world(failed())

    def cancel_then_fail(job: Job, msg_id: str | None = None) -> None:
        # The PENDING run is cancelled before the publish fails: the undo loses its CAS.
        here.store.put(here.store.current(RUN_ID).cancel_requested(NOW, None, None))
        raise BackendUnavailable("down")

    here.queue.before["publish"] = cancel_then_fail
    with caplog.at_level(logging.ERROR), pytest.raises(BackendUnavailable):
        run(here.service.redrive("1"))
    assert "could not undo a failed redrive" in caplog.text
    assert here.store.current(RUN_ID).status is RunStatus.CANCELLED


def test_a_failed_delete_still_redrives(caplog: pytest.LogCaptureFixture) -> None:
    here = world(failed())
    here.dead_letters.fail("delete", BackendUnavailable("down"))
    with caplog.at_level(logging.WARNING):
        pending = run(here.service.redrive("1"))
    assert pending.status is RunStatus.PENDING
    assert len(here.published) == 1
    assert "dead letter 1 not removed" in caplog.text
