"""Runs' task logs in memory: one ordered list of records per run, sequences shared by all."""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Callable, Sequence

from pyoco_server.domain.codec import LOG_RECORD
from pyoco_server.domain.records import LogRecord
from pyoco_server.memory._link import Link
from pyoco_server.ports import LogSlice, StoredLogRecord


class MemoryRunLogs:
    """`RunLogs` in memory; every record passes through the codec, as on NATS."""

    def __init__(self, link: Link, events: list[str] | None = None) -> None:
        self._link = link
        self._events = events
        self._seq = 0
        self._runs: dict[str, list[tuple[int, bytes]]] = {}
        self._signals: dict[str, set[MemoryLogSignal]] = {}

    def records(self, run_id: str) -> list[LogRecord]:
        """Every record of `run_id`, oldest first (for tests)."""
        return [LOG_RECORD.decode(raw) for _, raw in self._runs.get(run_id, [])]

    async def publish(self, records: Sequence[LogRecord]) -> None:
        """Store `records` in order."""
        self._link.check()
        for record in records:
            self._seq += 1
            self._runs.setdefault(record.run_id, []).append((self._seq, LOG_RECORD.encode(record)))
            for signal in self._signals.get(record.run_id, ()):
                signal.published_one()
        if records and self._events is not None:
            self._events.append(f"logs {len(records)}")

    async def read(self, run_id: str, after: int, limit: int) -> LogSlice:
        """Up to `limit` records of `run_id` after sequence `after`."""
        self._link.check()
        kept = self._runs.get(run_id, [])
        start = bisect.bisect_right(kept, after, key=lambda entry: entry[0])
        chosen = kept[start : start + limit]
        items = tuple(StoredLogRecord(seq, LOG_RECORD.decode(raw)) for seq, raw in chosen)
        last = chosen[-1][0] if chosen else after
        return LogSlice(items, last, len(kept) - start - len(chosen))

    async def last(self, run_id: str) -> StoredLogRecord | None:
        """The latest record of `run_id`, or None."""
        self._link.check()
        kept = self._runs.get(run_id)
        if not kept:
            return None
        seq, raw = kept[-1]
        return StoredLogRecord(seq, LOG_RECORD.decode(raw))

    async def signal(self, run_id: str) -> MemoryLogSignal:
        """Count the records published to `run_id` from now on."""
        self._link.check()
        listeners = self._signals.setdefault(run_id, set())
        signal = MemoryLogSignal(lambda: self._forget(run_id, signal))
        listeners.add(signal)
        return signal

    def _forget(self, run_id: str, signal: MemoryLogSignal) -> None:
        listeners = self._signals.get(run_id)
        if listeners is not None:
            listeners.discard(signal)
            if not listeners:
                del self._signals[run_id]


class MemoryLogSignal:
    """A `LogSignal` in memory."""

    def __init__(self, on_close: Callable[[], None]) -> None:
        self.published = 0
        self._on_close: Callable[[], None] | None = on_close
        self._event = asyncio.Event()

    def published_one(self) -> None:
        """Count one published record."""
        self.published += 1
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        """Wait until a record is published after the last wait; False after `timeout`."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True

    async def close(self) -> None:
        """Stop counting."""
        if self._on_close is not None:
            self._on_close()
            self._on_close = None
