"""A run's task logs on their way from its run process to the logs stream (the worker's side).

The run process sends `LogBatch`es of what its tasks print and log (capture.py). `RunLog`, one
per attempt, turns their lines into `LogRecord`s of the run and attempt and publishes them in
order, a batch at a time, in the background: a task never waits on NATS, and a run that prints
nothing costs nothing here (no task, no request).

The limit (PYOCO_RUN_LOG_MAX_BYTES) is the run's, across attempts. The run process applies it
to its attempt; an attempt after the first also counts what earlier attempts stored (read once,
and only if it prints), and once a run's log was cut nothing more of it is stored. When the
attempt ends, `close` publishes the one `system` record of a cut log ("log limit of N bytes
reached; M bytes dropped") and waits until every record is stored (within a bound), and only
then does the runner write the run's end: a client that sees the run end and then reads its
log gets all of it.

Publishing is best effort: a record NATS does not take is lost (with one warning per attempt),
never the run.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence

from pyoco_server.domain.errors import BackendUnavailable, ContractError
from pyoco_server.domain.records import LogRecord, LogStream
from pyoco_server.ports import RunLogs
from pyoco_worker.execution import LogBatch, LogLine, message_bytes

log = logging.getLogger(__name__)

PUBLISH_CHUNK = 256
"""Records published at once (the most in flight per run)."""

READ_PAGE = 1000
"""Records read per request when counting what earlier attempts stored."""


class LogPublisher:
    """Opens the log of each attempt a worker runs (with no `RunLogs`, output is not kept)."""

    def __init__(
        self,
        logs: RunLogs | None,
        max_bytes: int = 1024 * 1024,
        close_timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.logs = logs
        self.max_bytes = max_bytes
        self.close_timeout = close_timeout
        self.clock = clock
        self._late: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def attempt(self, run_id: str, attempt: int) -> AsyncIterator[RunLog | None]:
        """The log of `attempt` of `run_id`, closed (stored) when the block ends."""
        if self.logs is None:
            yield None
            return
        run_log = RunLog(self, run_id, attempt)
        try:
            yield run_log
        finally:
            await run_log.close()

    def keep(self, task: asyncio.Task[None]) -> None:
        """Keep publishing that outlived its attempt's `close` until it is done."""
        self._late.add(task)
        task.add_done_callback(self._late.discard)


class RunLog:
    """The log of one attempt: receives batches (on the loop), publishes them in order."""

    def __init__(self, publisher: LogPublisher, run_id: str, attempt: int) -> None:
        self.run_id = run_id
        self.attempt = attempt
        self._publisher = publisher
        self._batches: collections.deque[tuple[LogLine, ...]] = collections.deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._used = 0
        self._dropped = 0
        self._dropped_there = 0
        """Bytes the run process dropped (its running total)."""
        self._cut = False
        """An earlier attempt's log was cut: nothing more is stored."""
        self._warned = False

    def received(self, batch: LogBatch) -> None:
        """Take a batch from the run process (a batch of another run is ignored)."""
        if batch.run_id != self.run_id or self._closing:
            return
        self._dropped_there = max(self._dropped_there, batch.dropped)
        if batch.lines:
            self._batches.append(batch.lines)
            self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._pump(), name=f"logs:{self.run_id}")

    async def close(self) -> None:
        """Publish what is left and the `system` record of a cut log; wait (bounded) until stored.

        Returns at once for an attempt whose tasks printed nothing.
        """
        if self._task is None:
            return
        self._closing = True
        self._wake.set()
        task = self._task
        try:
            await asyncio.wait_for(asyncio.shield(task), self._publisher.close_timeout)
        except TimeoutError:
            log.warning("run %s: its log is still being stored; its end goes first", self.run_id)
            self._publisher.keep(task)

    async def _pump(self) -> None:
        await self._count_earlier_attempts()
        while True:
            self._wake.clear()
            while self._batches:
                records = self._accepted(self._batches.popleft())
                for start in range(0, len(records), PUBLISH_CHUNK):
                    await self._publish(records[start : start + PUBLISH_CHUNK])
            if self._closing:
                break
            await self._wake.wait()
        dropped = self._dropped_there + self._dropped
        if dropped and not self._cut:
            limit = self._publisher.max_bytes
            message = f"log limit of {limit} bytes reached; {dropped} bytes dropped"
            await self._publish([self._record(LogStream.SYSTEM, message)])

    async def _count_earlier_attempts(self) -> None:
        """What earlier attempts of the run stored, against its limit (first attempts: none)."""
        if self.attempt <= 1:
            return
        logs = self._publisher.logs
        assert logs is not None
        try:
            last = await logs.last(self.run_id)
            if last is None:
                return
            if last.record.stream is LogStream.SYSTEM:
                self._cut = True
                return
            self._used = await _stored_bytes(logs, self.run_id)
        except BackendUnavailable as exc:
            log.warning("run %s: could not read its earlier log (%s)", self.run_id, exc)

    def _accepted(self, lines: Sequence[LogLine]) -> list[LogRecord]:
        """The records to store of `lines`, within the run's limit."""
        if self._cut:
            return []
        records = []
        limit = self._publisher.max_bytes
        for line in lines:
            size = message_bytes(line.message)
            if self._dropped or self._used + size > limit:
                self._dropped += size
                continue
            self._used += size
            records.append(self._record(line.stream, line.message, line))
        return records

    def _record(self, stream: LogStream, message: str, line: LogLine | None = None) -> LogRecord:
        return LogRecord(
            run_id=self.run_id,
            attempt=self.attempt,
            stream=stream,
            message=message,
            ts=line.ts if line is not None else self._publisher.clock(),
            task=line.task if line is not None else None,
            level=line.level if line is not None else None,
            logger=line.logger if line is not None else None,
        )

    async def _publish(self, records: list[LogRecord]) -> None:
        try:
            assert self._publisher.logs is not None
            await self._publisher.logs.publish(records)
        except (BackendUnavailable, ContractError) as exc:
            if not self._warned:
                self._warned = True
                log.warning("run %s: log records lost: %s", self.run_id, exc)


async def _stored_bytes(logs: RunLogs, run_id: str) -> int:
    """The size of every record of `run_id` stored so far (bounded by the run's limit)."""
    total = after = 0
    while True:
        page = await logs.read(run_id, after, READ_PAGE)
        total += sum(message_bytes(stored.record.message) for stored in page.items)
        if not page.pending or page.last_seq == after:
            return total
        after = page.last_seq


NO_LOGS = LogPublisher(None)
"""Keeps no output (a runner built without a `RunLogs`)."""
