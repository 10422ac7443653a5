"""Why a PENDING run waits (services/waiting.py) on the memory backend, with a test clock.

The same through HTTP with real workers is in tests/e2e/test_waiting.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pyoco_server.domain.records import WorkerState
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import AttemptRecord, AttemptStatus, RunSnapshot, RunStatus
from pyoco_server.memory import MemoryBackend
from pyoco_server.ports import QueueDepth
from pyoco_server.services.waiting import (
    QueueProbe,
    RunWaits,
    WaitingReason,
    WorkerView,
)
from tests.support.fakes import Spy
from tests.support.samples import NOW, PENDING, job, worker_record

T = TypeVar("T")
SETTINGS = Settings(worker_disconnect_timeout_sec=20.0)


class Deployment:
    """RunWaits on a memory backend whose registry, queue and clocks the test sets."""

    def __init__(self) -> None:
        self.backend = MemoryBackend(SETTINGS)
        self.now = NOW
        self.monotonic = 0.0
        self.deployment = Spy(self.backend.deployment)
        self.view = WorkerView(self.backend)
        self.probe = QueueProbe(self.deployment, clock=lambda: self.monotonic)
        self.waits = RunWaits(self.view, self.probe, SETTINGS, clock=lambda: self.now)

    async def started(self) -> Deployment:
        self.view.start()
        assert await self.view.wait_loaded(1.0)
        return self

    async def settle(self) -> None:
        """Let the feed deliver what was written (it calls back soon, on the loop)."""
        for _ in range(3):
            await asyncio.sleep(0)

    async def queue(self, *run_ids: str) -> list[int]:
        """Publish jobs for `run_ids` on tag default; their sequences."""
        return [await self.backend.jobs.publish(job(run_id)) for run_id in run_ids]


def scenario(test: Callable[[Deployment], Awaitable[T]]) -> T:
    async def main() -> T:
        return await test(await Deployment().started())

    return asyncio.run(main())


def pending(job_seq: int | None = None, **changes: object) -> RunSnapshot:
    return dataclasses.replace(PENDING, job_seq=job_seq, **changes)  # type: ignore[arg-type]


def test_no_live_worker_is_no_worker_and_a_submit_warning() -> None:
    async def test(d: Deployment) -> None:
        stale = worker_record("gone", last_seen_at=NOW - 60)  # not heard from for a minute
        stopped = worker_record("done", WorkerState.STOPPED_GRACEFUL)
        other = worker_record("gpu", tags=("gpu",))
        for record in (stale, stopped, other):
            d.backend.workers.write(record)
        await d.settle()
        waiting = await d.waits.explain(pending())
        assert waiting is not None
        assert (waiting.reason, waiting.workers) == (WaitingReason.NO_WORKER, 0)
        assert "no worker has served tag 'default' in the last 20 s" in waiting.detail
        assert "pyoco-worker --tags default" in waiting.detail
        assert d.waits.submit_warnings("default") == [waiting.detail]
        assert d.waits.submit_warnings("gpu") == []
        assert d.deployment.calls == []  # no consumer is read for a tag nobody serves

    scenario(test)


def test_a_live_worker_with_a_free_slot_means_queued() -> None:
    async def test(d: Deployment) -> None:
        d.backend.workers.write(worker_record("w1", concurrency=2, current_run_ids=("a",)))
        await d.settle()
        waiting = await d.waits.explain(pending())
        assert waiting is not None
        assert (waiting.reason, waiting.workers) == (WaitingReason.QUEUED, 1)
        assert d.waits.submit_warnings("default") == []

    scenario(test)


def test_full_workers_mean_workers_busy_with_the_jobs_ahead() -> None:
    async def test(d: Deployment) -> None:
        d.backend.workers.write(
            worker_record("w1", WorkerState.RUNNING, concurrency=1, current_run_ids=("r0",))
        )
        subscription = await d.backend.jobs.subscribe("default")
        first, *later = await d.queue("r0", "r1", "r2", "r3")
        assert [delivery.seq for delivery in await subscription.fetch(1, 0.1)] == [first]
        await d.settle()
        answers = [await d.waits.explain(pending(seq)) for seq in later]
        assert [a.reason if a else None for a in answers] == [WaitingReason.WORKERS_BUSY] * 3
        assert [a.ahead if a else None for a in answers] == [0, 1, 2]
        assert "1 live worker of tag 'default' is busy; 2 jobs" in answers[2].detail  # type: ignore[union-attr]

    scenario(test)


def test_jobs_ahead_beyond_the_free_slots_mean_workers_busy() -> None:
    async def test(d: Deployment) -> None:
        d.backend.workers.write(worker_record("w1", concurrency=2))
        await d.backend.jobs.subscribe("default")
        *_, last = await d.queue("r1", "r2", "r3")
        await d.settle()
        waiting = await d.waits.explain(pending(last))
        assert waiting is not None
        assert (waiting.reason, waiting.ahead) == (WaitingReason.WORKERS_BUSY, 2)
        first = await d.waits.explain(pending(last - 2))
        assert first is not None
        assert (first.reason, first.ahead) == (WaitingReason.QUEUED, 0)

    scenario(test)


def test_a_scheduled_retry_says_when() -> None:
    async def test(d: Deployment) -> None:
        failed = AttemptRecord(
            1, "w1", NOW - 1, AttemptStatus.FAILED, NOW, "boom", "execution_error"
        )
        retrying = pending(attempt=1, next_attempt_at=NOW + 30.0, attempts=(failed,))
        waiting = await d.waits.explain(retrying)
        assert waiting is not None
        assert (waiting.reason, waiting.retry_at) == (WaitingReason.RETRY_SCHEDULED, NOW + 30.0)
        assert "attempt 1 failed (execution_error)" in waiting.detail
        assert "1970-01-01T00:02:10Z (in 30 s)" in waiting.detail
        d.now = NOW + 31.0  # due: now it waits like any queued run (no worker here)
        due = await d.waits.explain(retrying)
        assert due is not None
        assert due.reason is WaitingReason.NO_WORKER

    scenario(test)


def test_only_pending_runs_wait() -> None:
    async def test(d: Deployment) -> None:
        for status in (RunStatus.RUNNING, RunStatus.COMPLETED, RunStatus.CANCELLING):
            assert await d.waits.explain(pending(status=status)) is None

    scenario(test)


def test_a_tags_consumer_is_read_at_most_once_per_interval() -> None:
    async def test(d: Deployment) -> None:
        d.backend.workers.write(worker_record("w1"))
        await d.backend.jobs.subscribe("default")
        (seq,) = await d.queue("r1")
        await d.settle()
        await asyncio.gather(*(d.waits.explain(pending(seq)) for _ in range(20)))
        assert len(d.deployment.calls) == 1  # concurrent asks shared one read
        for _ in range(5):
            await d.waits.explain(pending(seq))
        assert len(d.deployment.calls) == 1
        d.monotonic += 1.0
        await d.waits.explain(pending(seq))
        assert len(d.deployment.calls) == 2

    scenario(test)


def test_a_read_older_than_the_job_is_taken_again_for_a_get() -> None:
    async def test(d: Deployment) -> None:
        d.backend.workers.write(worker_record("w1", concurrency=1, current_run_ids=("r0",)))
        subscription = await d.backend.jobs.subscribe("default")
        (first,) = await d.queue("r0")
        await d.settle()
        assert await d.waits.explain(pending(first)) is not None  # read before r1 and r2
        assert len(d.deployment.calls) == 1
        await subscription.fetch(1, 0.1)
        _, last = await d.queue("r1", "r2")
        await d.settle()
        waiting = await d.waits.explain(pending(last))
        assert waiting is not None
        assert (waiting.reason, waiting.ahead) == (WaitingReason.WORKERS_BUSY, 1)
        assert len(d.deployment.calls) == 2  # within the interval, but the job is newer
        again = await d.waits.explain(pending(last - 1))
        assert again is not None
        assert again.ahead == 0
        assert len(d.deployment.calls) == 2  # the second read began after r1 was published

    scenario(test)


def test_a_watch_counts_a_job_newer_than_the_read_as_not_in_it() -> None:
    async def test(d: Deployment) -> None:
        d.backend.workers.write(worker_record("w1", concurrency=1, current_run_ids=("r0",)))
        await d.backend.jobs.subscribe("default")
        (first,) = await d.queue("r1")
        await d.settle()
        shown = await d.waits.explain(pending(first))  # the read counts r1 itself
        assert shown is not None
        assert shown.ahead == 0
        (second,) = await d.queue("r2")
        later = d.waits.explain_now(pending(second))  # no read: r1 alone was counted, ahead
        assert later is not None
        assert later.ahead == 1
        assert len(d.deployment.calls) == 1

    scenario(test)


def test_a_worker_starting_on_the_tag_ends_no_worker() -> None:
    async def test(d: Deployment) -> None:
        assert d.waits.submit_warnings("default")
        d.backend.workers.write(worker_record("w1"))
        await d.settle()
        assert d.waits.submit_warnings("default") == []
        d.backend.workers.bucket.delete("w1")
        await d.settle()
        assert d.waits.submit_warnings("default")

    scenario(test)


def test_nothing_is_said_before_the_registry_is_loaded() -> None:
    async def test() -> None:
        backend = MemoryBackend(SETTINGS)
        waits = RunWaits(WorkerView(backend), QueueProbe(backend.deployment), SETTINGS)
        assert waits.submit_warnings("default") == []
        assert await waits.explain(pending()) is None

    asyncio.run(test())


def test_a_consumer_that_cannot_be_read_leaves_ahead_unknown() -> None:
    async def test(d: Deployment) -> None:
        d.backend.workers.write(worker_record("w1", concurrency=1, current_run_ids=("x",)))
        await d.settle()
        d.backend.cut()
        waiting = await d.waits.explain(pending(7))
        d.backend.restore()
        assert waiting is not None
        assert (waiting.reason, waiting.ahead) == (WaitingReason.WORKERS_BUSY, None)

    scenario(test)


def test_queue_depth_keeps_its_old_shape() -> None:
    assert QueueDepth("t", 1, 2, 3).delivered_seq is None
