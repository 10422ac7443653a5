"""IdempotentSubmits on the memory backend: replays, conflicts, concurrent repeats, failed and stale submits.

The same behaviour through HTTP and a real bucket is in tests/e2e/test_listing_and_watch.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from pyoco_server.domain.codec import JOB
from pyoco_server.domain.errors import (
    BackendUnavailable,
    IdempotencyConflict,
    IdempotencyInProgress,
    SubmitOutcomeUnknown,
)
from pyoco_server.domain.records import IdempotencyRecord, Job
from pyoco_server.domain.settings import Settings
from pyoco_server.memory import MemoryBackend, MemoryRunStore
from pyoco_server.services.idempotency import IN_PROGRESS_SEC, IdempotentSubmits, key_hash
from pyoco_server.services.runs import RunService, Submission
from tests.support.fakes import Spy

T = TypeVar("T")
SUBMISSION = Submission(flow_name="main", params={"x": 1})


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


class Deployment:
    """The submits on a memory backend; spies on its job queue and idempotency keys."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.backend = MemoryBackend()
        self.queue = Spy(self.backend.jobs)
        self.keys = Spy(self.backend.idempotency)
        ids = iter(f"run-{n}" for n in range(1, 100))
        service = RunService(
            self.backend.runs,
            self.queue,
            Settings(),
            clock=lambda: self.now,
            new_id=lambda: next(ids),
        )
        self.submits = IdempotentSubmits(service, self.keys, clock=lambda: self.now)

    @property
    def store(self) -> MemoryRunStore:
        return self.backend.runs

    @property
    def jobs(self) -> list[Job]:
        """The jobs queued (publishes that went through)."""
        return [JOB.decode(message.data) for message in self.backend.work.messages.values()]

    def records(self) -> dict[str, IdempotencyRecord]:
        """Every recorded key (by its hash) and its record."""

        async def read() -> dict[str, IdempotencyRecord]:
            found = {key: await self.backend.idempotency.get(key) for key in self.key_hashes()}
            return {key: record for key, record in found.items() if record is not None}

        return run(read())

    def key_hashes(self) -> list[str]:
        return self.backend.idempotency.bucket.keys()

    def record(self, key: str, record: IdempotencyRecord) -> None:
        """Record `key` as an earlier submit (or another gateway) did."""
        run(self.backend.idempotency.create(key, record))

    def submit(self, submission: Submission = SUBMISSION, key: str | None = "k1") -> Any:
        return run(self.submits.submit(submission, key))


def test_without_a_key_every_submit_creates_a_run() -> None:
    deployment = Deployment()
    first, second = deployment.submit(key=None), deployment.submit(key=None)
    assert first.run_id != second.run_id
    assert not first.replayed
    assert not second.replayed
    assert deployment.records() == {}


def test_the_same_key_and_request_returns_the_first_run() -> None:
    deployment = Deployment()
    first = deployment.submit()
    again = deployment.submit(Submission(flow_name="main", params={"x": 1}))
    assert again.run_id == first.run_id
    assert again.replayed
    assert not first.replayed
    assert again.response == first.response
    assert len(deployment.jobs) == 1


def test_the_same_key_with_a_different_request_is_refused() -> None:
    deployment = Deployment()
    deployment.submit()
    with pytest.raises(IdempotencyConflict, match="different request"):
        deployment.submit(Submission(flow_name="main", params={"x": 2}))
    assert len(deployment.jobs) == 1


def test_keys_are_per_tenant() -> None:
    deployment = Deployment()
    mine = deployment.submit(Submission(flow_name="main", params={}, tenant_id="a"))
    theirs = deployment.submit(Submission(flow_name="main", params={}, tenant_id="b"))
    assert mine.run_id != theirs.run_id
    assert not theirs.replayed


def test_a_failed_submit_releases_its_key() -> None:
    deployment = Deployment()
    deployment.queue.fail("publish", BackendUnavailable("NATS is down"))
    with pytest.raises(BackendUnavailable):
        deployment.submit()
    assert deployment.records() == {}
    del deployment.queue.before["publish"]
    retried = deployment.submit()
    assert not retried.replayed
    assert deployment.store.current(retried.run_id).run_id == retried.run_id


def test_a_repeat_while_the_first_is_still_submitting_is_asked_to_retry() -> None:
    deployment = Deployment()
    in_flight = IdempotencyRecord(
        "run-elsewhere", _fingerprint(), 1000.0, _accepted("run-elsewhere")
    )
    deployment.record(key_hash(None, "k1"), in_flight)
    with pytest.raises(IdempotencyInProgress, match="retry"):
        deployment.submit()
    assert deployment.jobs == []


def test_a_record_whose_run_never_appeared_is_submitted_again_after_the_in_progress_window() -> (
    None
):
    """Under the recorded run id: if its first submit queued the job after all, it is that run."""
    deployment = Deployment()
    stale = IdempotencyRecord("run-lost", _fingerprint(), 1000.0, _accepted("run-lost"))
    deployment.record(key_hash(None, "k1"), stale)
    deployment.now += IN_PROGRESS_SEC + 1
    accepted = deployment.submit()
    assert (accepted.run_id, accepted.replayed) == ("run-lost", False)
    assert deployment.records()[key_hash(None, "k1")].created_at == deployment.now
    assert [job.run_id for job in deployment.jobs] == ["run-lost"]


def test_of_two_concurrent_firsts_one_creates_and_the_other_replays() -> None:
    deployment = Deployment()
    winner = deployment.submit(key="k1")
    hashed = key_hash(None, "k1")
    record = deployment.records()[hashed]
    run(deployment.backend.idempotency.delete(hashed))

    async def land_the_winner(key_hash: str, record_: IdempotencyRecord) -> None:
        # The winner's record lands between our read (none yet) and our create.
        del deployment.keys.before["create"]
        await deployment.backend.idempotency.create(hashed, record)

    deployment.keys.before["create"] = land_the_winner
    loser = deployment.submit(key="k1")
    assert loser.replayed
    assert loser.run_id == winner.run_id
    assert len(deployment.jobs) == 1


def _accepted(run_id: str) -> dict[str, str]:
    """The answer a submit of `SUBMISSION` recorded for `run_id`."""
    return {"run_id": run_id, "status": "PENDING", "flow_name": "main", "tag": "default"}


def _fingerprint(submission: Submission = SUBMISSION) -> str:
    """The request hash a submit of `submission` records (read back from a throwaway submit)."""
    probe = Deployment()
    probe.submit(submission, key="probe")
    return probe.records()[key_hash(None, "probe")].request_sha256


@pytest.mark.parametrize(
    ("failures", "left_behind", "error"),
    [(0, 0, BackendUnavailable), (2, 0, BackendUnavailable), (9, 1, SubmitOutcomeUnknown)],
)
def test_a_submit_whose_run_cannot_be_stored_withdraws_its_job_through_a_short_outage(
    failures: int, left_behind: int, error: type[BackendUnavailable], no_backoff: None
) -> None:
    """The job is queued first; when the run cannot be stored after it, the job is withdrawn
    (retrying through a reconnect), so nothing runs that the client was told failed. A job that
    cannot be withdrawn is a `SubmitOutcomeUnknown`: the client is told the run may happen."""
    backend = MemoryBackend()
    store = Spy(backend.runs)
    store.fail("create", BackendUnavailable("NATS is down"))
    work = Spy(backend.work)
    deletes = iter(range(1, 100))

    def flaky_delete(seq: int) -> None:
        if next(deletes) <= failures:  # the first `failures` deletes fail, as in a reconnect
            raise BackendUnavailable("NATS is reconnecting")

    work.before["delete"] = flaky_delete
    service = RunService(store, backend.jobs, Settings(), work=work)
    with pytest.raises(BackendUnavailable) as raised:
        run(service.submit(SUBMISSION))
    assert type(raised.value) is error
    assert len(backend.stream.messages) == left_behind
    assert backend.run_bucket.keys() == []


def test_the_job_is_queued_before_the_run_is_stored() -> None:
    """So that no stored run lacks its job, whatever stops the gateway between the two."""
    backend = MemoryBackend()
    order: list[str] = []
    store = Spy(backend.runs)
    store.before["create"] = lambda snapshot: order.append("store the run")
    queue = Spy(backend.jobs)
    queue.before["publish"] = lambda job, msg_id=None: order.append("queue the job")
    snapshot = run(RunService(store, queue, Settings()).submit(SUBMISSION))
    assert order == ["queue the job", "store the run"]
    assert snapshot.job_seq == 1
    stored = backend.runs.current(snapshot.run_id)
    assert stored is not None
    assert stored.job_seq == 1


def test_a_time_limit_as_an_integer_or_a_float_is_the_same_request() -> None:
    deployment = Deployment()
    first = deployment.submit(Submission(flow_name="main", params={}, timeout_sec=90))
    again = deployment.submit(Submission(flow_name="main", params={}, timeout_sec=90.0))
    assert (again.run_id, again.replayed) == (first.run_id, True)
    with pytest.raises(IdempotencyConflict):
        deployment.submit(Submission(flow_name="main", params={}, timeout_sec=90.5))
