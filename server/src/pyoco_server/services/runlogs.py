"""Reading runs' task logs: pages, and following a run's log as it is written.

A page reads the run's records from a sequence (`RunLogs.read`, one request per batch), keeps
those of the task asked for, and stops at `limit` records or after `PAGE_SCAN` records read (a
rare task in a long log then gives a short page and a `next_after`, never a scan of the log).

A follow (`LogFollow`) subscribes to the run's changes (the gateway's `WatchHub`) and to a
signal of its new records (`RunLogs.signal`) before it reads the run, so nothing falls between.
It sends every record after the start, then waits for a new record, the run's end, or a
heartbeat's silence, and reads again. A worker stores a run's records before it writes the
run's end, so once the run has ended a last read finds all of them; the follow then ends with
the run's status. It reads only when its reader has taken what it sent (the events are an
async generator), so what it holds is one batch; a reader that never reads costs one batch and
two subscriptions until its `timeout_sec`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator

from pyoco_server.domain.codec import SNAPSHOT
from pyoco_server.domain.records import LogStream
from pyoco_server.domain.snapshot import RunStatus
from pyoco_server.ports import LogSignal, RunLogs, StoredLogRecord
from pyoco_server.services.runs import RunService
from pyoco_server.services.watching import CLOSED, Change, Mailbox, WatchHub

PAGE_SCAN = 5000
"""The most records one page reads, matching its task filter or not."""

READ_BATCH = 200
"""Records asked for per read while scanning or following."""

STORING_RETRIES = (0.005, 0.02, 0.05, 0.1)
"""Pauses before reading again when a record was announced but is not readable yet."""


@dataclasses.dataclass(frozen=True, slots=True)
class LogPage:
    """A page of a run's log (`GET /runs/{run_id}/logs`)."""

    items: tuple[StoredLogRecord, ...]
    next_after: int | None
    """The `after` of the next page; None when there are no more records now."""
    truncated: bool
    """The run's log reached its limit: the rest was dropped."""


@dataclasses.dataclass(frozen=True, slots=True)
class LogEvent:
    """One event of a follow: a record, a heartbeat, or the end (with the run's status)."""

    kind: str
    stored: StoredLogRecord | None = None
    status: RunStatus | None = None


class RunLogService:
    """Reads the logs of the runs a caller may see."""

    def __init__(self, logs: RunLogs, runs: RunService, hub: WatchHub) -> None:
        self._logs = logs
        self._runs = runs
        self._hub = hub

    async def page(
        self, run_id: str, tenant_id: str | None, *, task: str | None, after: int, limit: int
    ) -> LogPage:
        """Up to `limit` records of the run (of `task`) after sequence `after`.

        Raises:
            RunNotFound: no such run, or it belongs to another tenant.
        """
        await self._runs.get(run_id, tenant_id)
        (items, next_after), latest = await asyncio.gather(
            self._scan(run_id, task, after, limit), self._logs.last(run_id)
        )
        truncated = latest is not None and latest.record.stream is LogStream.SYSTEM
        return LogPage(tuple(items), next_after, truncated)

    async def _scan(
        self, run_id: str, task: str | None, after: int, limit: int
    ) -> tuple[list[StoredLogRecord], int | None]:
        """The matching records and the page's `next_after`."""
        items: list[StoredLogRecord] = []
        scanned = 0
        while True:
            batch = limit - len(items) if task is None else READ_BATCH
            read = await self._logs.read(run_id, after, batch)
            for position, stored in enumerate(read.items):
                if task is None or stored.record.task == task:
                    items.append(stored)
                if len(items) == limit:
                    more = position + 1 < len(read.items) or read.pending > 0
                    return items, stored.seq if more else None
            scanned += len(read.items)
            if not read.pending or read.last_seq == after:
                return items, None
            after = read.last_seq
            if scanned >= PAGE_SCAN:
                return items, after

    async def follow(self, run_id: str, tenant_id: str | None, after: int) -> LogFollow:
        """Start following the run's log after sequence `after` (close the follow when done).

        Raises:
            RunNotFound: no such run, or it belongs to another tenant (nothing is left open).
        """
        mailbox = self._hub.subscribe(run_id)
        signal: LogSignal | None = None
        try:
            signal = await self._logs.signal(run_id)
            stored = await self._runs.get(run_id, tenant_id)
            latest = await self._logs.last(run_id)
        except BaseException:
            self._hub.unsubscribe(run_id, mailbox)
            if signal is not None:
                await signal.close()
            raise
        ended = stored.snapshot.status if stored.snapshot.terminal else None
        start = _Start(after, latest.seq if latest is not None else 0, ended)
        return LogFollow(self._logs, self._hub, run_id, mailbox, signal, start)


@dataclasses.dataclass(frozen=True, slots=True)
class _Start:
    after: int
    known: int
    """The run's last sequence when the signal was already listening."""
    ended: RunStatus | None


class LogFollow:
    """One follow of a run's log (see the module docstring)."""

    def __init__(
        self,
        logs: RunLogs,
        hub: WatchHub,
        run_id: str,
        mailbox: Mailbox,
        signal: LogSignal,
        start: _Start,
    ) -> None:
        self.run_id = run_id
        self._logs = logs
        self._hub = hub
        self._mailbox = mailbox
        self._signal = signal
        self._last = start.after
        self._known = start.known
        self._got = 0
        """Records read that were published after the signal listened."""
        self._ended = start.ended
        self._waits: dict[str, asyncio.Task[object]] = {}
        self._closed = False

    async def events(
        self, task: str | None, timeout_sec: float, heartbeat_sec: float
    ) -> AsyncIterator[LogEvent]:
        """The records (of `task`) as they come, heartbeats in silences, then the end."""
        deadline = time.monotonic() + timeout_sec
        try:
            while True:
                async for stored in self._read_all():
                    if task is None or stored.record.task == task:
                        yield LogEvent("log", stored)
                if self._ended is not None:
                    yield LogEvent("end", status=self._ended)
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                woken = await self._wait(min(heartbeat_sec, remaining))
                if woken is None:
                    return
                if not woken and deadline - time.monotonic() > 0:
                    yield LogEvent("heartbeat")
        finally:
            self.close()

    async def _read_all(self) -> AsyncIterator[StoredLogRecord]:
        """Every record after the last one read; waits briefly for announced ones to be stored."""
        for pause in (0.0, *STORING_RETRIES):
            if pause:
                await asyncio.sleep(pause)
            while True:
                read = await self._logs.read(self.run_id, self._last, READ_BATCH)
                self._last = read.last_seq
                for stored in read.items:
                    if stored.seq > self._known:
                        self._got += 1
                    yield stored
                if not read.pending:
                    break
            if self._got >= self._signal.published:
                return
        self._got = self._signal.published  # not stored after all (refused): stop waiting for it

    async def _wait(self, timeout: float) -> bool | None:
        """Wait for a record or the run's end: True; False after `timeout`; None to stop.

        Other changes of the run (progress, heartbeats) are only noted: they bring no record.
        """
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if "change" not in self._waits:
                self._waits["change"] = asyncio.create_task(self._mailbox.get())
            if "record" not in self._waits:
                self._waits["record"] = asyncio.create_task(self._signal.wait(3600.0))
            done, _ = await asyncio.wait(
                self._waits.values(), timeout=left, return_when=asyncio.FIRST_COMPLETED
            )
            self._waits = {name: wait for name, wait in self._waits.items() if wait not in done}
            woken = self._woken(done)
            if woken is not False:
                return woken
        return False

    def _woken(self, done: set[asyncio.Task[object]]) -> bool | None:
        """What the finished waits say: a record or the end (True), nothing (False), stop (None)."""
        woken = False
        for wait in done:
            result = wait.result()
            if not isinstance(result, Change):
                woken = True  # a record was published
            elif not self._changed(result):
                return None
            elif self._ended is not None:
                woken = True
        return woken

    def _changed(self, change: Change) -> bool:
        """Note the run's new status; False when the follow must end (run gone, gateway stops)."""
        if change is CLOSED or change.raw is None:
            return False
        snapshot = SNAPSHOT.decode(change.raw)
        if snapshot.terminal:
            self._ended = snapshot.status
        return True

    def close(self) -> None:
        """Stop following (idempotent); the signal is closed in the background."""
        if self._closed:
            return
        self._closed = True
        self._hub.unsubscribe(self.run_id, self._mailbox)
        for wait in self._waits.values():
            wait.cancel()
        self._waits.clear()
        closing = asyncio.get_running_loop().create_task(self._signal.close())
        _CLOSING.add(closing)
        closing.add_done_callback(_CLOSING.discard)


_CLOSING: set[asyncio.Task[None]] = set()
"""Signals being closed (kept referenced until done)."""
