"""What a submit answers when NATS fails between queueing its job and storing its run.

The job is queued first, so the run may happen whatever the client is told. The submit must
tell the truth: a success when a worker has taken the job, a clean failure only when the job was
withdrawn, and `SubmitOutcomeUnknown` (Idempotency-Key kept) when neither can be known.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from pyoco_server.domain.errors import (
    BackendUnavailable,
    IdempotencyInProgress,
    SubmitOutcomeUnknown,
)
from pyoco_server.domain.records import Job
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot
from pyoco_server.memory import MemoryBackend
from pyoco_server.services.idempotency import IN_PROGRESS_SEC, IdempotentSubmits
from pyoco_server.services.runs import RunService, Submission
from tests.support.fakes import Spy

T = TypeVar("T")
SUBMISSION = Submission(flow_name="main", params={"x": 1})

pytestmark = pytest.mark.usefixtures("no_backoff")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


class World:
    """Submits on a memory backend whose run store and work stream can be made to fail."""

    def __init__(self) -> None:
        self.backend = MemoryBackend()
        self.store = Spy(self.backend.runs)
        self.work = Spy(self.backend.work)
        self.queue = Spy(self.backend.jobs)
        self.now = 1000.0
        ids = iter(f"run-{n}" for n in range(1, 100))
        self.service = RunService(
            self.store, self.queue, Settings(), work=self.work, new_id=lambda: next(ids)
        )
        self.submits = IdempotentSubmits(
            self.service, self.backend.idempotency, clock=lambda: self.now
        )

    def fail_creates(self, times: int) -> None:
        """The next `times` stores of a new run fail as in a NATS flap."""
        left = [times]

        def flaky(_snapshot: RunSnapshot) -> None:
            if left[0] > 0:
                left[0] -= 1
                raise BackendUnavailable("NATS is reconnecting")

        self.store.before["create"] = flaky

    def lose_publish_answers(self, times: int, *, queued: bool = True) -> None:
        """The next `times` job publishes get no answer (a timeout); each is `queued` or not."""
        left = [times]

        async def unanswered(job: Job, msg_id: str | None = None) -> None:
            if left[0] > 0:
                left[0] -= 1
                if queued:
                    await self.backend.jobs.publish(job, msg_id)
                raise BackendUnavailable("NATS did not complete queueing the job", uncertain=True)

        self.queue.before["publish"] = unanswered

    def worker_takes_the_job(self) -> None:
        """A worker acknowledges the job, so the work stream no longer holds it."""
        self.backend.work.messages.clear()

    def worker_stores(self, run_id: str) -> None:
        """The worker stores the run it took, as a worker does for a job without a run."""
        pending = self.store.calls_to("create")[-1].arguments["snapshot"]
        assert pending.run_id == run_id
        run(self.backend.runs.create(pending))

    @property
    def queued(self) -> int:
        return len(self.backend.work.messages)


def test_a_store_that_fails_briefly_is_tried_again_and_nothing_is_withdrawn() -> None:
    world = World()
    world.fail_creates(2)
    snapshot = run(world.service.submit(SUBMISSION))
    assert world.backend.runs.current(snapshot.run_id) is not None
    assert world.queued == 1
    assert world.work.calls_to("delete") == []


def test_a_job_a_worker_already_took_makes_the_submit_a_success() -> None:
    """The withdrawal finds the job gone: a worker has it and stores the run, so a 503 here
    would make a careful client submit the same run a second time."""
    world = World()
    world.fail_creates(99)
    world.work.before["delete"] = lambda _seq: world.worker_takes_the_job()
    accepted = run(world.submits.submit(SUBMISSION, "k1"))
    assert accepted.run_id == "run-1"
    assert not accepted.replayed
    world.store.before.pop("create")
    world.worker_stores("run-1")
    again = run(world.submits.submit(SUBMISSION, "k1"))
    assert (again.run_id, again.replayed) == ("run-1", True)


def test_a_job_that_cannot_be_withdrawn_keeps_the_key_so_a_retry_finds_its_run() -> None:
    world = World()
    world.fail_creates(99)
    world.work.fail("delete", BackendUnavailable("NATS is down"))
    with pytest.raises(SubmitOutcomeUnknown, match="retry with the same Idempotency-Key"):
        run(world.submits.submit(SUBMISSION, "k1"))
    assert world.queued == 1  # the job stays: it may still run
    with pytest.raises(IdempotencyInProgress):
        run(world.submits.submit(SUBMISSION, "k1"))  # not stored yet: no second run
    world.store.before.pop("create")
    world.worker_stores("run-1")
    again = run(world.submits.submit(SUBMISSION, "k1"))
    assert (again.run_id, again.replayed) == ("run-1", True)
    assert world.queued == 1


def test_a_withdrawn_job_releases_the_key_for_a_fresh_submit() -> None:
    world = World()
    world.fail_creates(99)
    with pytest.raises(BackendUnavailable) as raised:
        run(world.submits.submit(SUBMISSION, "k1"))
    assert type(raised.value) is BackendUnavailable
    assert world.queued == 0
    world.store.before.pop("create")
    fresh = run(world.submits.submit(SUBMISSION, "k1"))
    assert (fresh.run_id, fresh.replayed) == ("run-2", False)
    assert world.queued == 1


def test_a_publish_that_got_no_answer_is_sent_again_and_queues_one_job() -> None:
    """The job went in but its answer was lost: the second publish (same Nats-Msg-Id) is
    dropped as a duplicate and answers with the first one's sequence."""
    world = World()
    world.lose_publish_answers(1)
    accepted = run(world.submits.submit(SUBMISSION, "k1"))
    assert (accepted.run_id, accepted.replayed) == ("run-1", False)
    assert len(world.queue.calls_to("publish")) == 2
    assert world.queued == 1
    assert world.backend.runs.current("run-1") is not None


def test_a_publish_refused_outright_is_not_sent_again_and_frees_the_key() -> None:
    world = World()
    world.queue.fail("publish", BackendUnavailable("no JetStream responders"))
    with pytest.raises(BackendUnavailable) as raised:
        run(world.submits.submit(SUBMISSION, "k1"))
    assert type(raised.value) is BackendUnavailable
    assert len(world.queue.calls_to("publish")) == 1
    world.queue.before.pop("publish")
    fresh = run(world.submits.submit(SUBMISSION, "k1"))
    assert (fresh.run_id, fresh.replayed) == ("run-2", False)


@pytest.mark.parametrize("queued", [True, False])
def test_a_job_whose_queueing_stays_unknown_never_makes_a_second_run(queued: bool) -> None:
    """Both publishes unanswered: the key is kept; a retry soon after is asked to wait, one
    after the in-progress window submits again under the same run id, and JetStream drops the
    copy of a job that was queued after all."""
    world = World()
    world.lose_publish_answers(2, queued=queued)
    with pytest.raises(SubmitOutcomeUnknown, match="retry with the same Idempotency-Key"):
        run(world.submits.submit(SUBMISSION, "k1"))
    assert world.queued == (1 if queued else 0)
    with pytest.raises(IdempotencyInProgress):
        run(world.submits.submit(SUBMISSION, "k1"))
    world.now += IN_PROGRESS_SEC + 1
    again = run(world.submits.submit(SUBMISSION, "k1"))
    assert (again.run_id, again.replayed) == ("run-1", False)
    assert world.queued == 1
    assert world.backend.runs.current("run-1") is not None
    assert run(world.submits.submit(SUBMISSION, "k1")).replayed


def test_the_service_tells_each_run_id_it_makes_before_anything_is_stored_under_it() -> None:
    backend = MemoryBackend()
    ids = iter(["run-1", "run-2"])
    told: list[tuple[str, bool]] = []

    def on_new_id(run_id: str) -> None:  # nothing of the run may be queued or stored yet
        told.append((run_id, backend.runs.current(run_id) is None and not backend.work.messages))

    service = RunService(
        backend.runs, backend.jobs, Settings(), new_id=lambda: next(ids), on_new_id=on_new_id
    )

    async def submit() -> None:
        await service.submit(SUBMISSION)  # an id made by the submit
        backend.work.messages.clear()  # a worker took run-1's job
        reserved = service.new_run_id()  # one reserved first, as idempotent submits do
        assert told[-1] == (reserved, True)
        await service.submit(SUBMISSION, run_id=reserved)
        await service.submit(SUBMISSION, run_id="given")  # not made here: not told

    run(submit())
    assert told == [("run-1", True), ("run-2", True)]
