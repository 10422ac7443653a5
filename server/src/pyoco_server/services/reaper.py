"""The reaper: runs that can no longer end by themselves are ended, and the stuck ones counted.

A run ends when a worker finishes its job. It cannot when its job has left the work stream while
the run still says PENDING, RUNNING or CANCELLING: the job expired (the work stream's age limit),
an operator purged it, or a redrive stopped between requeueing the run and queueing its job.
(A submit cannot leave a run without its job: the job is queued before the run is stored.) Each
gateway looks every PYOCO_REAPER_INTERVAL_SEC, from its run index:

- a RUNNING or CANCELLING run whose heartbeat is older than `stale_after` (AckWait plus three
  run heartbeat intervals: a live worker writes one every interval, and the job of a dead worker
  is delivered again within AckWait, where the next worker's claim refreshes it). If its job is
  gone, the run is ended FAILED `lost` (CANCELLED when a cancel was asked), with a
  compare-and-set. If its job is still queued, a worker will get it: the run is left alone and
  counted as stale (the `pyoco_runs_stale` gauge), e.g. while no worker serves its tag;
- a PENDING run unchanged for longer than `REQUEUE_GRACE_SEC`: FAILED `lost` likewise when its
  job is gone (a bounded number of lookups per round, oldest first; each run looked at again
  only after `PRESENT_RECHECK_SEC` once its job was found);
- a PENDING run requeued by a redrive whose job sequence is still unknown after
  `REQUEUE_GRACE_SEC`: its job was never queued. It ends FAILED `lost`; its dead letter is still
  there, so it can be redriven again.

Several gateways may reap the same run: the compare-and-set lets one end it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pyoco_server.domain.cas import compare_and_set
from pyoco_server.domain.errors import BackendUnavailable, TooManyConflicts
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import FailureReason, RunSnapshot, RunStatus
from pyoco_server.ports import RunStore, StoredSnapshot, WorkStream
from pyoco_server.services.index import RunIndex

log = logging.getLogger(__name__)

PENDING_CHECKS_PER_ROUND = 64
"""PENDING runs looked at per round at most (each costs two reads)."""

PRESENT_RECHECK_SEC = 3600.0
"""A PENDING run whose job was found is looked at again after this long."""

REQUEUE_GRACE_SEC = 60.0
"""How long a redrive may take between requeueing the run and recording its job."""

_RUNNING = (RunStatus.RUNNING.value, RunStatus.CANCELLING.value)


class Reaper:
    """Ends runs whose job is gone; counts those stuck with their job queued."""

    def __init__(
        self,
        store: RunStore,
        work: WorkStream,
        index: RunIndex,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._work = work
        self._index = index
        self._clock = clock
        self.stale_after = settings.consumer_ack_wait_sec + 3 * settings.run_heartbeat_interval_sec
        """A RUNNING run's heartbeat older than this is stale."""
        self.stale = 0
        """RUNNING or CANCELLING runs with a stale heartbeat whose job is still queued."""
        self.ended = 0
        """Runs this reaper ended (since it started)."""
        self._present: dict[str, float] = {}
        """PENDING runs whose job was found, and when."""

    async def sweep(self) -> None:
        """One round (see the module docstring); a NATS outage ends it early."""
        now = self._clock()
        stale = 0
        try:
            for status in _RUNNING:
                for summary in list(self._index.with_status(status)):
                    if summary.updated_at <= now - self.stale_after and not await self._reap(
                        summary.run_id, now
                    ):
                        stale += 1
            await self._sweep_pending(now)
        except BackendUnavailable as exc:
            log.warning("reaper round cut short: %s", exc)
            return
        self.stale = stale

    async def _sweep_pending(self, now: float) -> None:
        self._present = {
            run_id: seen
            for run_id, seen in self._present.items()
            if now - seen < PRESENT_RECHECK_SEC
        }
        checked = 0
        # Read lazily: the loop stops after the oldest runs, however many are queued.
        for summary in self._index.with_status(RunStatus.PENDING.value, oldest_first=True):
            if summary.submitted_at > now - REQUEUE_GRACE_SEC:
                break
            if checked >= PENDING_CHECKS_PER_ROUND:
                break
            if summary.run_id in self._present or summary.updated_at > now - REQUEUE_GRACE_SEC:
                continue
            checked += 1
            if not await self._reap(summary.run_id, now):
                self._present[summary.run_id] = now

    async def _reap(self, run_id: str, now: float) -> bool:
        """End the run if its job is gone; False when it is (or may be) still queued."""
        stored = await self._store.get(run_id)
        if stored is None or stored.snapshot.terminal:
            return True
        why = await self._lost_because(stored.snapshot, now)
        if why is None:
            return False
        await self._end(stored, why)
        return True

    async def _lost_because(self, snapshot: RunSnapshot, now: float) -> str | None:
        """Why the run cannot end by itself, or None when it can (or may)."""
        if snapshot.status.value in _RUNNING:
            if (snapshot.heartbeat_at or snapshot.updated_at) > now - self.stale_after:
                return None
        elif snapshot.updated_at > now - REQUEUE_GRACE_SEC:
            return None
        if snapshot.job_seq is None:
            if snapshot.status is RunStatus.PENDING and snapshot.attempts:
                return "its redrive was interrupted before its job was queued (redrive it again)"
            return None  # stored by an older gateway: its job cannot be looked up
        if await self._work.get(snapshot.job_seq) is not None:
            return None
        return (
            f"its job (message {snapshot.job_seq} of the work stream) is gone: it expired or "
            "was removed, so no worker will run it"
        )

    async def _end(self, stored: StoredSnapshot, why: str) -> None:
        run_id = stored.snapshot.run_id
        first = [stored]

        async def attempt() -> None:
            current = first.pop() if first else await self._store.get(run_id)
            if current is None or current.snapshot.terminal:
                return
            snapshot, now = current.snapshot, self._clock()
            if snapshot.status is RunStatus.CANCELLING:
                ended = snapshot.finished(
                    RunStatus.CANCELLED, now, error=f"lost: {why}", reason=FailureReason.CANCELLED
                )
            else:
                ended = snapshot.finished(
                    RunStatus.FAILED, now, error=f"lost: {why}", reason=FailureReason.LOST
                )
            await self._store.update(ended, current.revision)
            self.ended += 1
            log.warning("run %s ended %s: %s", run_id, ended.status, why)

        try:
            await compare_and_set(attempt, what=f"run {run_id}")
        except TooManyConflicts as exc:
            log.warning("run %s not reaped: %s", run_id, exc)
