"""Writing one run's snapshots for one delivery attempt.

Every write is a compare-and-set on the KV revision. When it loses, the writer re-reads the run
and re-applies its change on top, unless the run now belongs to a newer delivery attempt (or has
ended), in which case it raises `StaleAttempt`: a worker that was presumed dead can never
overwrite the attempt that replaced it. A lost write is also how a cancel is noticed when its
notice was missed: the gateway's CANCELLING write makes the next write fail, the re-read shows
the cancel request, and `on_cancel` is called. Progress is coalesced: at most one write per flush
interval, and none at all for a run that finishes within it.

The writes that record the end of an attempt (`finish`, `cancel_unstarted`) are tried again
through a NATS flap for up to `settle_within` seconds: the work is done, and a write given up
would hand the job back to run a second time. A write that did land before its answer was lost
shows on the retry as a run already ended (`StaleAttempt` with `ended`): nothing runs again.

When the worker starts stopping the run (its timeout, or a cancel), the writer records it at
once: CANCELLING with `stopping` (why, since when, and the deadline by which the process is
killed); the terminal write waits for that write, so the run never goes back to CANCELLING.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from pyoco_server.aio import backoff, cancel_and_wait, through_flaps
from pyoco_server.domain.cas import compare_and_set
from pyoco_server.domain.errors import BackendUnavailable, RevisionConflict, StaleAttempt
from pyoco_server.domain.records import CodeVersion
from pyoco_server.domain.snapshot import FailureReason, RunSnapshot, RunStatus
from pyoco_server.domain.states import StopReason as Stopping
from pyoco_server.ports import RunStore, StoredSnapshot
from pyoco_worker.execution import Outcome, Progress, StopReason

log = logging.getLogger(__name__)

Change = Callable[[RunSnapshot], RunSnapshot]

_SHOWN_STOPS = {StopReason.CANCEL: Stopping.CANCEL, StopReason.TIMEOUT: Stopping.TIMEOUT}
"""The worker's stops that a snapshot shows, as CANCELLING with `stopping`."""


class RunWriter:
    """The snapshot writer of one delivery attempt of one run."""

    def __init__(
        self,
        store: RunStore,
        stored: StoredSnapshot,
        *,
        worker_id: str,
        attempt: int,
        flush_interval: float,
        on_cancel: Callable[[], None] = lambda: None,
        on_stale: Callable[[StaleAttempt], None] = lambda _exc: None,
        clock: Callable[[], float] = time.time,
        settle_within: float = 0.0,
    ) -> None:
        self._store = store
        self._snapshot = stored.snapshot
        self._revision = stored.revision
        self._worker_id = worker_id
        self._attempt = attempt
        self._flush_interval = flush_interval
        self._on_cancel = on_cancel
        self._on_stale = on_stale
        self._clock = clock
        self._settle_delays = backoff(settle_within)
        self._pending: Progress | None = None
        self._flush_task: asyncio.Task[None] | None = None
        self._stopping_task: asyncio.Task[None] | None = None
        self._finished = False

    @property
    def snapshot(self) -> RunSnapshot:
        """The last snapshot written (or read) by this writer."""
        return self._snapshot

    @property
    def run_id(self) -> str:
        """The run this writer writes."""
        return self._snapshot.run_id

    async def claim(
        self, code: tuple[CodeVersion, ...] | None = None, job_seq: int | None = None
    ) -> RunSnapshot:
        """Write RUNNING under this attempt; `StaleAttempt` if the run is not ours to run.

        `code`, when given, replaces the code the run was bound to (a worker without wheel
        sync runs with its own environment, `()`); `job_seq` is the sequence of the job
        message this attempt runs.
        """
        self._check_owner(self._snapshot)
        return await self._write(
            lambda current: current.claimed(
                self._worker_id, self._attempt, self._clock(), code=code, job_seq=job_seq
            )
        )

    async def heartbeat(self) -> None:
        """Refresh `heartbeat_at` (best effort; a lost write may reveal a cancel)."""
        if self._finished:
            return
        try:
            await self._write(lambda current: current.heartbeat(self._clock()))
        except StaleAttempt as exc:  # before RevisionConflict, which it is a kind of
            self._stale(exc)
        except (BackendUnavailable, RevisionConflict) as exc:
            log.warning("run %s: heartbeat not written: %s", self.run_id, exc)

    def progress(self, progress: Progress) -> None:
        """Record new task states; written within one flush interval, coalesced."""
        if self._finished:
            return
        self._pending = progress
        if self._flush_task is None:
            self._flush_task = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        try:
            while self._pending is not None and not self._finished:
                await asyncio.sleep(self._flush_interval)
                progress, self._pending = self._pending, None
                if progress is None or self._finished:
                    return
                await self._write_progress(progress)
        finally:
            self._flush_task = None

    async def _write_progress(self, progress: Progress) -> None:
        try:
            await self._write(
                lambda current: current.progressed(progress.tasks, progress.records, self._clock())
            )
        except StaleAttempt as exc:  # before RevisionConflict, which it is a kind of
            self._stale(exc)
        except (BackendUnavailable, RevisionConflict) as exc:
            # Progress is best effort; the terminal write retries and decides.
            log.warning("run %s: progress not written: %s", self.run_id, exc)

    def stopping(self, reason: StopReason, within: float) -> None:
        """Record at once that the run is being stopped, its process killed within `within` s.

        Only a cancel's or a timeout's stop shows (a shutdown's or an abandoned attempt's
        run goes on elsewhere). Best effort, like progress: a lost write is logged, and the
        terminal write decides.
        """
        shown = _SHOWN_STOPS.get(reason)
        if shown is None or self._finished or self._stopping_task is not None:
            return
        deadline = self._clock() + within
        self._stopping_task = asyncio.create_task(self._write_stopping(shown, deadline))

    async def _write_stopping(self, reason: Stopping, deadline: float) -> None:
        try:
            await self._write(
                lambda current: current.being_stopped(reason, self._clock(), deadline)
            )
        except StaleAttempt as exc:  # before RevisionConflict, which it is a kind of
            self._stale(exc)
        except (BackendUnavailable, RevisionConflict) as exc:
            log.warning("run %s: stopping not written: %s", self.run_id, exc)

    def _stale(self, exc: StaleAttempt) -> None:
        """The run is no longer this attempt's: write nothing more, and say so once."""
        if not self._finished:
            self._finished = True
            log.warning("run %s: %s; stopping this attempt", self.run_id, exc.detail)
            self._on_stale(exc)

    async def finish(self, outcome: Outcome) -> RunSnapshot:
        """Write the terminal snapshot."""
        await self._stop_flushing()

        def change(current: RunSnapshot) -> RunSnapshot:
            now = self._clock()
            return current.progressed(outcome.tasks, outcome.records, now).finished(
                outcome.status, now, error=outcome.error, reason=outcome.reason
            )

        return await self._settle(change)

    async def retry_later(self, outcome: Outcome, delay: float) -> RunSnapshot:
        """Write PENDING with the failed attempt recorded and the next one due in `delay`.

        A run whose cancel was asked meanwhile is not retried: it ends with the attempt's
        outcome (the returned snapshot is then terminal and the job must be acked).
        """
        await self._stop_flushing()

        def change(current: RunSnapshot) -> RunSnapshot:
            now = self._clock()
            progressed = current.progressed(outcome.tasks, outcome.records, now)
            if current.cancel_requested_at is not None:
                return progressed.finished(
                    outcome.status, now, error=outcome.error, reason=outcome.reason
                )
            return progressed.retry_scheduled(
                now, delay, error=outcome.error, reason=outcome.reason
            )

        return await self._write(change)

    async def cancel_unstarted(self) -> RunSnapshot:
        """End as CANCELLED a run whose cancel was asked before this attempt started it."""
        await self._stop_flushing()
        return await self._settle(
            lambda current: current.finished(
                RunStatus.CANCELLED, self._clock(), reason=FailureReason.CANCELLED
            )
        )

    async def _stop_flushing(self) -> None:
        self._finished = True
        await cancel_and_wait(self._flush_task)
        self._flush_task = None
        if self._stopping_task is not None:
            await self._stopping_task  # one write; it catches its own errors

    async def _settle(self, change: Change) -> RunSnapshot:
        """`_write` an attempt's end, trying again through a NATS flap (module docstring)."""

        def retrying(exc: BackendUnavailable, delay: float) -> None:
            log.warning("run %s: end not recorded (%s); again in %.1fs", self.run_id, exc, delay)

        return await through_flaps(lambda: self._write(change), self._settle_delays, retrying)

    async def _write(self, change: Change) -> RunSnapshot:
        async def attempt() -> RunSnapshot:
            new = change(self._snapshot)
            try:
                self._revision = await self._store.update(new, self._revision)
            except RevisionConflict:
                await self._reload()
                raise
            self._snapshot = new
            return new

        return await compare_and_set(attempt, what=f"run {self.run_id}")

    async def _reload(self) -> None:
        stored = await self._store.get(self.run_id)
        if stored is None:
            raise StaleAttempt(self.run_id, "the run was deleted", ended=True)
        self._check_owner(stored.snapshot)
        # A cancel shows as its request, not as CANCELLING: a timeout's stop is CANCELLING too.
        cancelled = (
            stored.snapshot.cancel_requested_at is not None
            and self._snapshot.cancel_requested_at is None
        )
        self._snapshot, self._revision = stored.snapshot, stored.revision
        if cancelled:
            self._on_cancel()

    def _check_owner(self, current: RunSnapshot) -> None:
        if current.terminal:
            raise StaleAttempt(
                current.run_id, f"the run already ended {current.status}", ended=True
            )
        if current.attempt > self._attempt or (
            current.attempt == self._attempt and current.worker_id not in (None, self._worker_id)
        ):
            raise StaleAttempt(
                current.run_id,
                f"attempt {current.attempt} by {current.worker_id} replaced attempt "
                f"{self._attempt}",
            )
