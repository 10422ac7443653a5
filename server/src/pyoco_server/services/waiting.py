"""Why a PENDING run has not started, worked out from what the gateway already follows.

Never stored: the gateway adds it to its answers (`GET /runs/{run_id}`, watch events) and warns
at submit when no worker would take the run. The sources, none of them a round trip per request:

- the worker registry, followed in memory (`WorkerView`, a feed of the workers bucket): which
  live workers list the tag (live: heard from within PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC) and
  whether their slots are full (`current_run_ids` against `concurrency`, as of their last
  record: at most a heartbeat old);
- the tag's durable consumer (`QueueProbe`): read at most once a second per tag, and only for
  tags that live workers serve, for the number of jobs queued before the run's. `GET` of a
  PENDING run also reads it when the last read may have begun before the run's job was
  published (one read at a time per tag; a watch uses what was read last);
- the snapshot itself: `next_attempt_at` of a scheduled retry.

The reasons, first match wins: `retry_scheduled` (a retry is due later), `no_worker` (no live
worker serves the tag), `workers_busy` (every live worker of the tag is full, or jobs queued
before it are at least as many as the free slots), `queued` (a worker should take it at once).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import enum
import logging
import time
from collections.abc import Callable, Collection
from typing import Any

from pyoco_server.domain.codec import WORKER_RECORD
from pyoco_server.domain.errors import BackendUnavailable, DecodeError
from pyoco_server.domain.records import WorkerRecord, WorkerState
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus
from pyoco_server.ports import Backend, Bucket, DeploymentSource, QueueDepth

log = logging.getLogger(__name__)

QUEUE_READ_INTERVAL_SEC = 1.0
"""A tag's consumer is read at most this often by a gateway process."""

_LIVE = frozenset({WorkerState.RUNNING, WorkerState.IDLE})


class WaitingReason(enum.StrEnum):
    """Why a PENDING run waits (openapi.yaml `RunWaiting.reason`)."""

    NO_WORKER = "no_worker"
    WORKERS_BUSY = "workers_busy"
    RETRY_SCHEDULED = "retry_scheduled"
    QUEUED = "queued"


@dataclasses.dataclass(frozen=True, slots=True)
class RunWaiting:
    """Why a PENDING run has not started (openapi.yaml `RunWaiting`)."""

    reason: WaitingReason
    detail: str
    ahead: int | None = None
    workers: int | None = None
    retry_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "reason": self.reason.value,
            "detail": self.detail,
            "ahead": self.ahead,
            "workers": self.workers,
            "retry_at": self.retry_at,
        }


class WorkerView:
    """The worker registry in memory, by tag, kept by a feed of the workers bucket.

    A record that expires (PYOCO_WORKER_RECORD_RETENTION_SEC after its last write) leaves no
    marker a feed sees, so it stays here; it was not live for a day by then, and a live record
    is what counts. `GET /workers` reads the bucket itself (`WorkerService`).
    """

    def __init__(self, backend: Backend) -> None:
        self._records: dict[str, WorkerRecord] = {}
        self._by_tag: dict[str, set[str]] = {}
        self._feed = backend.follow(Bucket.WORKERS, self._on_put, self._on_delete)

    def start(self) -> None:
        """Start following the registry (in the background)."""
        self._feed.start()

    async def stop(self) -> None:
        """Stop following."""
        await self._feed.stop()

    @property
    def loaded(self) -> bool:
        """True once the registry's records are in memory."""
        return self._feed.loaded

    async def wait_loaded(self, timeout: float | None = None) -> bool:
        """Wait until the registry's records are in memory; False on timeout."""
        return await self._feed.wait_loaded(timeout)

    def tags(self) -> Collection[str]:
        """Every tag a worker record lists (live or not): a view that follows the registry."""
        return self._by_tag.keys()

    def serves(self, tag: str, now: float, disconnect_timeout: float) -> bool:
        """True when a live worker lists `tag` (the submit path's check: no list is built)."""
        records = self._records
        for worker_id in self._by_tag.get(tag, ()):
            if records[worker_id].shown_state(now, disconnect_timeout) in _LIVE:
                return True
        return False

    def serving(self, tag: str, now: float, disconnect_timeout: float) -> list[WorkerRecord]:
        """The live workers that list `tag`."""
        records = (self._records[worker_id] for worker_id in self._by_tag.get(tag, ()))
        return [
            record for record in records if record.shown_state(now, disconnect_timeout) in _LIVE
        ]

    def _on_put(self, key: str, value: bytes, _revision: int) -> None:
        try:
            record = WORKER_RECORD.decode(value)
        except DecodeError as exc:
            log.warning("worker record %s ignored: %s", key, exc)
            return
        self._forget(key)
        self._records[key] = record
        for tag in record.tags:
            self._by_tag.setdefault(tag, set()).add(key)

    def _on_delete(self, key: str, _revision: int) -> None:
        self._forget(key)

    def _forget(self, key: str) -> None:
        old = self._records.pop(key, None)
        for tag in old.tags if old is not None else ():
            workers = self._by_tag.get(tag)
            if workers is not None:
                workers.discard(key)
                if not workers:
                    del self._by_tag[tag]


@dataclasses.dataclass(frozen=True, slots=True)
class _Read:
    """One read of a tag's consumer."""

    at: float
    """When it was taken (the probe's clock)."""
    covers: int
    """The highest job sequence known to be published when it began: later jobs may be missing."""
    depth: QueueDepth | None


class QueueProbe:
    """Each tag's consumer, read at most once per `interval` (concurrent asks share a read).

    A read counts the jobs published before it began. A job is known to be published once a
    snapshot carrying its sequence is seen (the snapshot is written after the job), so each
    read remembers the highest sequence known when it began, and `read` with a `job_seq` reads
    again when the last read may predate that job.
    """

    def __init__(
        self,
        source: DeploymentSource,
        interval: float = QUEUE_READ_INTERVAL_SEC,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._interval = interval
        self._clock = clock
        self._known = 0
        self._read: dict[str, _Read] = {}
        self._reading: dict[str, tuple[int, asyncio.Task[QueueDepth | None]]] = {}

    def note(self, job_seq: int | None) -> None:
        """Remember that the job `job_seq` is published (a snapshot carrying it was seen)."""
        if job_seq is not None and job_seq > self._known:
            self._known = job_seq

    def cached(self, tag: str) -> QueueDepth | None:
        """The tag's consumer as last read (None: never read, or it has none)."""
        found = self._read.get(tag)
        return found.depth if found else None

    def covers(self, tag: str, job_seq: int | None) -> bool:
        """True when the tag's last read began after the job `job_seq` was published."""
        found = self._read.get(tag)
        return found is not None and job_seq is not None and job_seq <= found.covers

    def fresh(self, tag: str, job_seq: int | None = None) -> bool:
        """True when the tag's consumer was read within the interval (and after `job_seq`)."""
        found = self._read.get(tag)
        if found is None or self._clock() - found.at >= self._interval:
            return False
        return job_seq is None or job_seq <= found.covers

    async def read(self, tag: str, job_seq: int | None = None) -> QueueDepth | None:
        """The tag's consumer, read now unless it was within the interval and after `job_seq`.

        None: unknown. A read in flight that began before `job_seq` was known is waited for,
        then another one begins.
        """
        self.note(job_seq)
        if self.fresh(tag, job_seq):
            return self.cached(tag)
        covers, task = self._start(tag)
        if job_seq is not None and covers < job_seq:
            await asyncio.shield(task)
            _, task = self._start(tag)
        return await asyncio.shield(task)

    def refresh_soon(self, tag: str) -> None:
        """Read the tag's consumer in the background unless it is fresh or being read."""
        if not self.fresh(tag):
            self._start(tag)

    def _start(self, tag: str) -> tuple[int, asyncio.Task[QueueDepth | None]]:
        reading = self._reading.get(tag)
        if reading is None:
            covers = self._known
            task = asyncio.get_running_loop().create_task(self._fetch(tag, covers))
            reading = self._reading[tag] = (covers, task)
        return reading

    async def _fetch(self, tag: str, covers: int) -> QueueDepth | None:
        try:
            depth = await self._source.queue(tag)
        except BackendUnavailable as exc:
            log.debug("consumer of tag %s not read: %s", tag, exc)
            return self.cached(tag)
        finally:
            self._reading.pop(tag, None)
        self._read[tag] = _Read(self._clock(), covers, depth)
        return depth


class RunWaits:
    """Explains PENDING runs and warns at submit (see the module docstring)."""

    def __init__(
        self,
        workers: WorkerView,
        queues: QueueProbe,
        settings: Settings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._workers = workers
        self._queues = queues
        self._disconnect_timeout = settings.worker_disconnect_timeout_sec
        self._clock = clock

    def submit_warnings(self, tag: str) -> list[str]:
        """What a submitter to `tag` should know: that no live worker serves it."""
        if not self._workers.loaded:
            return []
        if self._workers.serves(tag, self._clock(), self._disconnect_timeout):
            return []
        return [self._no_worker(tag)]

    async def explain(self, snapshot: RunSnapshot) -> RunWaiting | None:
        """Why the run waits (None unless PENDING), its tag's consumer read if stale."""
        if snapshot.status is RunStatus.PENDING:
            await self.warm(snapshot.tag, snapshot.job_seq)
        return self.explain_now(snapshot)

    async def warm(self, tag: str, job_seq: int | None = None) -> None:
        """Read the tag's consumer unless no live worker serves the tag or it is fresh.

        Fresh: read within the interval and, given `job_seq`, begun after that job was published.
        """
        self._queues.note(job_seq)
        if self._queues.fresh(tag, job_seq):
            return
        if self._workers.serves(tag, self._clock(), self._disconnect_timeout):
            await self._queues.read(tag, job_seq)

    def explain_now(self, snapshot: RunSnapshot) -> RunWaiting | None:
        """Why the run waits, from what is in memory now (a stale consumer is read for later)."""
        if snapshot.status is not RunStatus.PENDING:
            return None
        now = self._clock()
        retry_at = snapshot.next_attempt_at
        if retry_at is not None and retry_at > now:
            return self._retry(snapshot, retry_at, now)
        if not self._workers.loaded:
            return None
        serving = self._workers.serving(snapshot.tag, now, self._disconnect_timeout)
        if not serving:
            return RunWaiting(WaitingReason.NO_WORKER, self._no_worker(snapshot.tag), workers=0)
        self._queues.note(snapshot.job_seq)
        self._queues.refresh_soon(snapshot.tag)
        ahead = _ahead(
            snapshot.job_seq,
            self._queues.cached(snapshot.tag),
            counted=self._queues.covers(snapshot.tag, snapshot.job_seq),
        )
        free = sum(max(0, record.concurrency - len(record.current_run_ids)) for record in serving)
        if free == 0 or (ahead is not None and ahead >= free):
            return RunWaiting(
                WaitingReason.WORKERS_BUSY,
                _busy(snapshot.tag, len(serving), ahead),
                ahead,
                len(serving),
            )
        return RunWaiting(
            WaitingReason.QUEUED, _queued(snapshot.tag, len(serving)), ahead, len(serving)
        )

    def _no_worker(self, tag: str) -> str:
        return (
            f"no worker has served tag {tag!r} in the last {self._disconnect_timeout:g} s; the run "
            f"waits until one does (start one with `pyoco-worker --tags {tag}`)"
        )

    def _retry(self, snapshot: RunSnapshot, retry_at: float, now: float) -> RunWaiting:
        when = datetime.datetime.fromtimestamp(retry_at, datetime.UTC).isoformat(timespec="seconds")
        reason = snapshot.attempts[-1].error_reason if snapshot.attempts else None
        failed = f" ({reason})" if reason else ""
        detail = (
            f"attempt {snapshot.attempt} failed{failed}; the next attempt is due at "
            f"{when.replace('+00:00', 'Z')} (in {max(0.0, retry_at - now):.0f} s)"
        )
        return RunWaiting(WaitingReason.RETRY_SCHEDULED, detail, retry_at=retry_at)


def _ahead(job_seq: int | None, queue: QueueDepth | None, *, counted: bool) -> int | None:
    """Jobs of the tag queued before `job_seq`, when the consumer tells.

    Every job between the consumer's last delivery and this one is still queued, so their count
    is at most the sequence gap (which also counts other tags' jobs) and at most the consumer's
    undelivered jobs, less this one when the read began after it was published (`counted`): the
    smaller bound is the estimate. A job delivered before (a retry or a redelivery waiting) has
    no place in the line: None.
    """
    if queue is None or job_seq is None or queue.delivered_seq is None:
        return None
    if job_seq <= queue.delivered_seq:
        return None
    undelivered = queue.pending - 1 if counted else queue.pending
    return max(0, min(undelivered, job_seq - queue.delivered_seq - 1))


def _queued(tag: str, workers: int) -> str:
    which = "the live worker" if workers == 1 else f"one of the {workers} live workers"
    return f"queued; {which} of tag {tag!r} should start it at once"


def _busy(tag: str, workers: int, ahead: int | None) -> str:
    plural = "s" if workers != 1 else ""
    queued = ""
    if ahead is not None:
        queued = f"; {ahead} job{'s' if ahead != 1 else ''} of the tag queued before this one"
    return (
        f"the {workers} live worker{plural} of tag {tag!r} {'are' if workers != 1 else 'is'} "
        f"busy{queued}; it starts when a run slot frees"
    )
