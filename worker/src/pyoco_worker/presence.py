"""This worker's record in the registry (the `pyoco_workers` bucket).

It is written at start, on every heartbeat, on a RUNNING/IDLE change (at most once a second)
and at stop.

Every write is a compare-and-set; a lost write re-reads the record so that a `hidden` flag set
by an operator in the meantime is kept. Each process start gets a new `instance_id`.

A worker started without `--worker-id` claims its id: the host name, or `<host>-2`, `<host>-3`,
... when a live worker (RUNNING or IDLE, not yet DISCONNECTED) holds it. The first write is the
claim (a compare-and-set), so two workers starting at once on one host get distinct ids. A
restarted worker usually gets its old id back, with its `hidden` flag and its metrics labels;
one restarted after a crash, before its old record shows DISCONNECTED, takes the next free id.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from importlib import metadata

from pyoco_server.domain.cas import compare_and_set
from pyoco_server.domain.copies import replacer
from pyoco_server.domain.errors import BackendUnavailable, RevisionConflict
from pyoco_server.domain.records import WheelState, WorkerRecord, WorkerState
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus
from pyoco_server.ports import WorkerRegistry

log = logging.getLogger(__name__)

_MAX_CONFLICTS = 8
_MAX_CLAIMED_IDS = 1000
_MIN_CHANGE_INTERVAL_SEC = 1.0

_changed_record = replacer(WorkerRecord)
"""`dataclasses.replace` for the record, at a third of its cost: once per run (`run_ended`)."""


class Presence:
    """Keeps this worker's registry record current."""

    def __init__(
        self,
        registry: WorkerRegistry,
        *,
        worker_id: str,
        tags: Sequence[str],
        concurrency: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._registry = registry
        self._clock = clock
        now = clock()
        self._record = WorkerRecord(
            worker_id=worker_id,
            instance_id=uuid.uuid4().hex,
            state=WorkerState.IDLE,
            hidden=False,
            tags=tuple(tags),
            concurrency=concurrency,
            current_run_ids=(),
            started_at=now,
            last_seen_at=now,
            updated_at=now,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            version=_version(),
        )
        # `_record` holds what the record should say (changes land there at once, even while
        # a write is in flight); `_written` is the record as last written. A write never copies
        # what it wrote back into `_record`: a change made during its round trip would be lost.
        self._written: WorkerRecord | None = None
        self._revision: int | None = None
        self._running: dict[str, None] = {}
        self._last_write = 0.0
        self._pending: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopped: tuple[float, str] | None = None  # (stopped_at, reason) once stopping

    @property
    def record(self) -> WorkerRecord:
        """The record as last written (before the first write: as it will be written)."""
        return self._written or self._record

    async def start(self, disconnect_timeout: float, *, claim: bool = False) -> None:
        """Write the first record of this process, keeping `hidden` from an earlier one.

        With `claim`, the worker id given is a base: the record goes to the first id of
        `base`, `base-2`, `base-3`, ... that no live worker holds (see the module docstring).
        """
        if claim:
            await self._claim(disconnect_timeout)
            return
        existing = await self._registry.get(self._record.worker_id)
        if existing is not None:
            old = existing.record
            if old.shown_state(self._clock(), disconnect_timeout) in (
                WorkerState.RUNNING,
                WorkerState.IDLE,
            ):
                log.warning(
                    "worker id %s is also used by a live worker on %s (pid %s); give each "
                    "worker its own --worker-id",
                    old.worker_id,
                    old.hostname,
                    old.pid,
                )
            self._record = dataclasses.replace(self._record, hidden=old.hidden)
            self._revision = existing.revision
        await self._write()

    async def _claim(self, disconnect_timeout: float) -> None:
        base = self._record.worker_id
        for number in range(1, _MAX_CLAIMED_IDS + 1):
            worker_id = base if number == 1 else f"{base[: 127 - len(str(number))]}-{number}"
            self._record = dataclasses.replace(self._record, worker_id=worker_id)
            if await self._claimed(disconnect_timeout):
                return
        raise RuntimeError(f"worker ids {base} to {base}-{_MAX_CLAIMED_IDS} are all in use")

    async def _claimed(self, disconnect_timeout: float) -> bool:
        """Whether the current id was free and is now this worker's (its record written)."""
        for _ in range(_MAX_CONFLICTS):
            existing = await self._registry.get(self._record.worker_id)
            if existing is not None:
                shown = existing.record.shown_state(self._clock(), disconnect_timeout)
                if shown in (WorkerState.RUNNING, WorkerState.IDLE):
                    return False
                self._record = dataclasses.replace(self._record, hidden=existing.record.hidden)
            self._revision = None if existing is None else existing.revision
            record = self._fresh()
            try:
                self._revision = await self._registry.put(record, self._revision)
            except RevisionConflict:
                continue  # another worker wrote it first: is it live now?
            self._written = record
            self._last_write = record.updated_at
            return True
        return False

    def wheels_changed(self, state: WheelState) -> None:
        """Note the wheel sync's new state (written soon)."""
        self._record = dataclasses.replace(self._record, wheels=state)
        if self._revision is not None:
            self._changed()

    def run_started(self, run_id: str) -> None:
        """Note a run this worker now executes."""
        self._running[run_id] = None
        if len(self._running) == 1:
            self._changed()

    def run_ended(self, run_id: str, snapshot: RunSnapshot | None) -> None:
        """Note a run that left this worker (and how it ended, if it did)."""
        self._running.pop(run_id, None)
        if snapshot is not None and snapshot.terminal:
            completed = snapshot.status is RunStatus.COMPLETED
            self._record = _changed_record(
                self._record,
                runs_completed=self._record.runs_completed + completed,
                runs_failed=self._record.runs_failed + (not completed),
                last_run_id=snapshot.run_id,
                last_run_status=snapshot.status.value,
                last_run_finished_at=snapshot.end_time,
            )
        if not self._running:
            self._changed()

    def _changed(self) -> None:
        """Write soon: at once, unless the last write is less than a second old."""
        if self._pending is not None:
            return
        delay = max(0.0, self._last_write + _MIN_CHANGE_INTERVAL_SEC - self._clock())
        loop = asyncio.get_running_loop()
        self._pending = loop.call_later(delay, self._write_in_background)

    def _write_in_background(self) -> None:
        self._pending = None
        task = asyncio.create_task(self.beat())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def beat(self) -> None:
        """Write the record now (the heartbeat); failures are logged, the next beat retries."""
        try:
            await self._write()
        except (BackendUnavailable, RevisionConflict) as exc:
            log.warning("registry record not written: %s", exc)

    async def stop(self, reason: str = "graceful_shutdown") -> None:
        """Write STOPPED_GRACEFUL."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        self._stopped = (self._clock(), reason)
        # A write already in flight must not land after (and undo) the final one.
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._write()

    async def _write(self) -> None:
        async def attempt() -> None:
            record = self._fresh()
            try:
                self._revision = await self._registry.put(record, self._revision)
            except RevisionConflict:
                await self._reload()
                raise
            self._written = record
            self._last_write = record.updated_at

        await compare_and_set(
            attempt, what=f"worker record {self._record.worker_id}", attempts=_MAX_CONFLICTS
        )

    def _fresh(self) -> WorkerRecord:
        now = self._clock()
        record = dataclasses.replace(
            self._record,
            state=WorkerState.RUNNING if self._running else WorkerState.IDLE,
            current_run_ids=tuple(self._running),
            last_seen_at=now,
            updated_at=now,
        )
        if self._stopped is not None:
            stopped_at, reason = self._stopped
            record = dataclasses.replace(
                record,
                state=WorkerState.STOPPED_GRACEFUL,
                stopped_at=stopped_at,
                stop_reason=reason,
            )
        return record

    async def _reload(self) -> None:
        stored = await self._registry.get(self._record.worker_id)
        if stored is None:
            self._revision = None
            return
        self._revision = stored.revision
        self._record = dataclasses.replace(self._record, hidden=stored.record.hidden)


def _version() -> str | None:
    try:
        return metadata.version("pyoco-worker")
    except metadata.PackageNotFoundError:
        return None
