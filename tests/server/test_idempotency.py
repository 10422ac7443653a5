"""IdempotentSubmits on fakes: replays, conflicts, concurrent repeats, failed and stale submits.

The same behaviour through HTTP and a real bucket is in tests/e2e/test_listing_and_watch.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from pyoco_server.errors import (
    BackendUnavailable,
    IdempotencyConflict,
    IdempotencyInProgress,
    RevisionConflict,
)
from pyoco_server.idempotency import (
    IN_PROGRESS_SEC,
    IdempotencyRecord,
    IdempotentSubmits,
    key_hash,
)
from pyoco_server.messages import Job
from pyoco_server.runs import RunService, Submission
from pyoco_server.settings import Settings
from tests.worker.test_snapshots import FakeRunStore

T = TypeVar("T")
SUBMISSION = Submission(flow_name="main", params={"x": 1})


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


class FakeKeys:
    """An in-memory `IdempotencyKeys`; `create` is a compare-and-set like the KV bucket's."""

    def __init__(self) -> None:
        self.records: dict[str, IdempotencyRecord] = {}
        self.before_create: list[tuple[str, IdempotencyRecord]] = []

    async def get(self, key_hash: str) -> IdempotencyRecord | None:
        return self.records.get(key_hash)

    async def create(self, key_hash: str, record: IdempotencyRecord) -> None:
        for raced_key, raced in self.before_create:  # another gateway gets there first
            self.records[raced_key] = raced
        self.before_create.clear()
        if key_hash in self.records:
            raise RevisionConflict(key_hash)
        self.records[key_hash] = record

    async def delete(self, key_hash: str) -> None:
        self.records.pop(key_hash, None)


class FakeQueue:
    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self.error: BackendUnavailable | None = None

    async def publish(self, job: Job, msg_id: str | None = None) -> None:
        if self.error is not None:
            raise self.error
        self.jobs.append(job)


class Deployment:
    def __init__(self) -> None:
        self.now = 1000.0
        self.store = FakeRunStore()
        self.queue = FakeQueue()
        self.keys = FakeKeys()
        ids = iter(f"run-{n}" for n in range(1, 100))
        service = RunService(
            self.store, self.queue, Settings(), clock=lambda: self.now, new_id=lambda: next(ids)
        )
        self.submits = IdempotentSubmits(service, self.keys, clock=lambda: self.now)

    def submit(self, submission: Submission = SUBMISSION, key: str | None = "k1") -> Any:
        return run(self.submits.submit(submission, key))


def test_without_a_key_every_submit_creates_a_run() -> None:
    deployment = Deployment()
    first, second = deployment.submit(key=None), deployment.submit(key=None)
    assert first.run_id != second.run_id
    assert not first.replayed
    assert not second.replayed
    assert deployment.keys.records == {}


def test_the_same_key_and_request_returns_the_first_run() -> None:
    deployment = Deployment()
    first = deployment.submit()
    again = deployment.submit(Submission(flow_name="main", params={"x": 1}))
    assert again.run_id == first.run_id
    assert again.replayed
    assert not first.replayed
    assert again.response == first.response
    assert len(deployment.queue.jobs) == 1


def test_the_same_key_with_a_different_request_is_refused() -> None:
    deployment = Deployment()
    deployment.submit()
    with pytest.raises(IdempotencyConflict, match="different request"):
        deployment.submit(Submission(flow_name="main", params={"x": 2}))
    assert len(deployment.queue.jobs) == 1


def test_keys_are_per_tenant() -> None:
    deployment = Deployment()
    mine = deployment.submit(Submission(flow_name="main", params={}, tenant_id="a"))
    theirs = deployment.submit(Submission(flow_name="main", params={}, tenant_id="b"))
    assert mine.run_id != theirs.run_id
    assert not theirs.replayed


def test_a_failed_submit_releases_its_key() -> None:
    deployment = Deployment()
    deployment.queue.error = BackendUnavailable("NATS is down")
    with pytest.raises(BackendUnavailable):
        deployment.submit()
    assert deployment.keys.records == {}
    deployment.queue.error = None
    retried = deployment.submit()
    assert not retried.replayed
    assert deployment.store.current(retried.run_id).run_id == retried.run_id


def test_a_repeat_while_the_first_is_still_submitting_is_asked_to_retry() -> None:
    deployment = Deployment()
    in_flight = IdempotencyRecord("run-elsewhere", _fingerprint(), 1000.0, {})
    deployment.keys.records[key_hash(None, "k1")] = in_flight
    with pytest.raises(IdempotencyInProgress, match="retry"):
        deployment.submit()
    assert deployment.queue.jobs == []


def test_a_record_whose_run_never_appeared_is_free_after_the_in_progress_window() -> None:
    deployment = Deployment()
    stale = IdempotencyRecord("run-lost", _fingerprint(), 1000.0, {})
    deployment.keys.records[key_hash(None, "k1")] = stale
    deployment.now += IN_PROGRESS_SEC + 1
    accepted = deployment.submit()
    assert not accepted.replayed
    assert accepted.run_id != "run-lost"
    assert deployment.keys.records[key_hash(None, "k1")].run_id == accepted.run_id


def test_of_two_concurrent_firsts_one_creates_and_the_other_replays() -> None:
    deployment = Deployment()
    winner = deployment.submit(key="k1")
    record = deployment.keys.records.pop(key_hash(None, "k1"))
    # The winner's record lands between our read (none yet) and our create.
    deployment.keys.before_create.append((key_hash(None, "k1"), record))
    loser = deployment.submit(key="k1")
    assert loser.replayed
    assert loser.run_id == winner.run_id
    assert len(deployment.queue.jobs) == 1


def _fingerprint(submission: Submission = SUBMISSION) -> str:
    """The request hash a submit of `submission` records (read back from a throwaway submit)."""
    probe = Deployment()
    probe.submit(submission, key="probe")
    return probe.keys.records[key_hash(None, "probe")].request_sha256


class FlakyDeleteStore(FakeRunStore):
    """A run store whose first `failures` deletes fail as during a NATS reconnect."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.deletes = 0

    async def delete(self, run_id: str) -> None:
        self.deletes += 1
        if self.deletes <= self.failures:
            raise BackendUnavailable("NATS is reconnecting")
        await super().delete(run_id)


@pytest.mark.parametrize(("failures", "left_behind"), [(0, 0), (2, 0), (9, 1)])
def test_a_failed_submit_removes_its_snapshot_through_a_short_outage(
    failures: int, left_behind: int
) -> None:
    store = FlakyDeleteStore(failures)
    queue = FakeQueue()
    queue.error = BackendUnavailable("NATS is down")
    service = RunService(store, queue, Settings())
    with pytest.raises(BackendUnavailable):
        run(service.submit(SUBMISSION))
    assert len(store._records) == left_behind
