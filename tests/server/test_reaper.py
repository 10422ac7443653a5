"""The reaper (services/reaper.py) on the memory backend: runs whose job is gone are ended once;
runs whose job is queued are left alone (and the RUNNING ones counted as stale)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Coroutine
from typing import Any

import pytest

from pyoco_server.domain.codec import SNAPSHOT
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import FailureReason, RunSnapshot, RunStatus
from pyoco_server.memory import MemoryBackend
from pyoco_server.services import indexdb
from pyoco_server.services.index import STATUS_PAGE, RunIndex, Summary
from pyoco_server.services.reaper import PENDING_CHECKS_PER_ROUND, REQUEUE_GRACE_SEC, Reaper
from tests.support.fakes import Clock, Spy
from tests.support.samples import job

SETTINGS = Settings(consumer_ack_wait_sec=30.0, run_heartbeat_interval_sec=5.0)
STALE = 30.0 + 3 * 5.0
START = 1_000.0


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coroutine)


class World:
    """A memory backend, an index of its runs, a reaper and a clock."""

    def __init__(self) -> None:
        self.backend = MemoryBackend(SETTINGS)
        self.index = RunIndex()
        self.clock = Clock(START)
        self.work = Spy(self.backend.work)
        self.reaper = Reaper(self.backend.runs, self.work, self.index, SETTINGS, clock=self.clock)

    def queued(self, run_id: str) -> int:
        """Queue a job for `run_id`; its sequence."""
        return run(self.backend.jobs.publish(job(run_id)))

    def store(self, snapshot: RunSnapshot) -> None:
        self.backend.runs.put(snapshot)
        self.index.put(Summary.from_snapshot(SNAPSHOT.to_dict(snapshot)), 1)

    def sweep(self) -> None:
        run(self.reaper.sweep())

    def current(self, run_id: str) -> RunSnapshot:
        snapshot = self.backend.runs.current(run_id)
        assert snapshot is not None
        return snapshot


def running(run_id: str, at: float, job_seq: int | None) -> RunSnapshot:
    pending = RunSnapshot.pending(job(run_id, submitted_at=at), job_seq=job_seq)
    return pending.claimed("w1", 1, at, job_seq=job_seq)


def test_a_running_run_whose_job_is_gone_ends_failed_lost() -> None:
    world = World()
    seq = world.queued("r1")
    world.store(running("r1", START, seq))
    run(world.backend.work.delete(seq))
    world.clock.now = START + STALE + 1

    world.sweep()

    ended = world.current("r1")
    assert (ended.status, ended.error_reason) == (RunStatus.FAILED, FailureReason.LOST)
    assert ended.error is not None
    assert f"message {seq} of the work stream" in ended.error
    assert ended.attempts[-1].status.value == "FAILED"
    assert (world.reaper.ended, world.reaper.stale) == (1, 0)


def test_a_stale_running_run_whose_job_is_queued_is_left_and_counted() -> None:
    world = World()
    world.store(running("r1", START, world.queued("r1")))
    world.clock.now = START + STALE + 1

    world.sweep()

    assert world.current("r1").status is RunStatus.RUNNING
    assert (world.reaper.ended, world.reaper.stale) == (0, 1)


def test_a_running_run_with_a_fresh_heartbeat_is_not_even_looked_up() -> None:
    world = World()
    world.store(running("r1", START, world.queued("r1")))
    world.clock.now = START + STALE - 1

    world.sweep()

    assert world.current("r1").status is RunStatus.RUNNING
    assert world.work.calls_to("get") == []
    assert world.reaper.stale == 0


def test_a_cancelling_run_whose_job_is_gone_ends_cancelled() -> None:
    world = World()
    seq = world.queued("r1")
    world.store(running("r1", START, seq).cancel_requested(START, "alice", "stop"))
    run(world.backend.work.delete(seq))
    world.clock.now = START + STALE + 1

    world.sweep()

    ended = world.current("r1")
    assert (ended.status, ended.error_reason) == (RunStatus.CANCELLED, FailureReason.CANCELLED)


def test_a_requeued_run_whose_job_was_never_queued_ends_failed_after_the_grace() -> None:
    world = World()
    ended = running("r1", START, 7).finished(RunStatus.FAILED, START + 1, error="boom")
    requeued = dataclasses.replace(ended.requeued(START + 2), job_seq=None)
    world.store(requeued)

    world.clock.now = START + 2 + REQUEUE_GRACE_SEC - 1
    world.sweep()
    assert world.current("r1").status is RunStatus.PENDING

    world.clock.now = START + 2 + REQUEUE_GRACE_SEC + 1
    world.sweep()
    lost = world.current("r1")
    assert (lost.status, lost.error_reason) == (RunStatus.FAILED, FailureReason.LOST)
    assert lost.error is not None
    assert "redrive" in lost.error


def test_a_pending_run_whose_job_expired_ends_failed_and_one_that_waits_is_left() -> None:
    world = World()
    gone, waits = world.queued("gone"), world.queued("waits")
    world.store(RunSnapshot.pending(job("gone", submitted_at=START), job_seq=gone))
    world.store(RunSnapshot.pending(job("waits", submitted_at=START), job_seq=waits))
    run(world.backend.work.delete(gone))
    world.clock.now = START + REQUEUE_GRACE_SEC + 1

    world.sweep()
    world.sweep()  # a waiting run found queued is not looked up again every round

    assert world.current("gone").error_reason == FailureReason.LOST
    assert world.current("waits").status is RunStatus.PENDING
    assert sorted(call.arguments["sequence"] for call in world.work.calls_to("get")) == [
        gone,
        waits,
    ]


def test_pending_lookups_are_bounded_per_round() -> None:
    world = World()
    for number in range(PENDING_CHECKS_PER_ROUND + 10):
        run_id = f"r{number:03}"
        world.store(
            RunSnapshot.pending(job(run_id, submitted_at=START), job_seq=world.queued(run_id))
        )
    world.clock.now = START + REQUEUE_GRACE_SEC + 1

    world.sweep()

    assert len(world.work.calls_to("get")) == PENDING_CHECKS_PER_ROUND


def test_a_run_stored_by_an_older_gateway_is_left_alone() -> None:
    world = World()
    world.store(running("r1", START, None))
    world.clock.now = START + STALE + 1

    world.sweep()

    assert world.current("r1").status is RunStatus.RUNNING
    assert world.work.calls_to("get") == []


def test_two_reapers_end_a_lost_run_once() -> None:
    world = World()
    seq = world.queued("r1")
    world.store(running("r1", START, seq))
    run(world.backend.work.delete(seq))
    world.clock.now = START + STALE + 1
    other = Reaper(world.backend.runs, world.backend.work, world.index, SETTINGS, clock=world.clock)

    async def both() -> None:
        await asyncio.gather(world.reaper.sweep(), other.sweep())

    run(both())

    assert world.reaper.ended + other.ended == 1
    history = run(world.backend.runs.history("r1"))
    assert [stored.snapshot.status for stored in history][-1] is RunStatus.FAILED
    assert sum(stored.snapshot.status is RunStatus.FAILED for stored in history) == 1


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED])
def test_ended_runs_are_never_touched(status: RunStatus) -> None:
    world = World()
    world.store(running("r1", START, world.queued("r1")).finished(status, START + 1))
    world.clock.now = START + 10 * STALE

    world.sweep()

    assert world.current("r1").status is status
    assert world.reaper.ended == 0


def test_a_round_reads_the_oldest_queued_runs_not_every_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """However many runs wait, a round reads the index a page at a time and stops after its
    lookups: it looked at every PENDING run each round (a second of the gateway's event loop
    per 100,000 queued runs)."""
    world = World()
    for number in range(3 * STATUS_PAGE):
        run_id = f"r{number:04}"
        world.store(
            RunSnapshot.pending(job(run_id, submitted_at=START), job_seq=world.queued(run_id))
        )
    world.clock.now = START + REQUEUE_GRACE_SEC + 1
    read = []
    summary = indexdb.summary
    monkeypatch.setattr(indexdb, "summary", lambda row: read.append(row) or summary(row))

    world.sweep()

    assert len(world.work.calls_to("get")) == PENDING_CHECKS_PER_ROUND
    assert len(read) == STATUS_PAGE
