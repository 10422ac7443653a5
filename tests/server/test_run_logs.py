"""RunLogService on the memory backend: pages, the task filter's bound, follows and their end."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Sequence

import pytest

from pyoco_server.domain.codec import SNAPSHOT
from pyoco_server.domain.errors import RunNotFound
from pyoco_server.domain.records import LogRecord, LogStream
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus
from pyoco_server.memory import MemoryBackend
from pyoco_server.ports import LogSlice, StoredLogRecord
from pyoco_server.services.runlogs import PAGE_SCAN, LogEvent, RunLogService
from pyoco_server.services.runs import RunService
from pyoco_server.services.watching import Change, WatchHub
from tests.support.memory import backend_with
from tests.support.pool import eventually
from tests.support.samples import PENDING, RUN_ID

OUT = LogStream.STDOUT


def record(message: str, task: str | None = "a", stream: LogStream = OUT) -> LogRecord:
    return LogRecord(RUN_ID, 1, stream, message, 1.0, task=task)


def service(backend: MemoryBackend, hub: WatchHub | None = None) -> RunLogService:
    runs = RunService(backend.runs, backend.jobs, backend.settings)
    return RunLogService(backend.logs, runs, hub or WatchHub())


def messages(items: Sequence[StoredLogRecord]) -> list[str]:
    return [stored.record.message for stored in items]


def test_a_page_reads_after_a_sequence_and_says_where_to_go_on() -> None:
    backend = backend_with(PENDING)

    async def scenario() -> tuple[list[str], int | None, list[str], int | None]:
        await backend.logs.publish([record(f"line {n}") for n in range(5)])
        logs = service(backend)
        first = await logs.page(RUN_ID, None, task=None, after=0, limit=3)
        assert first.next_after is not None
        rest = await logs.page(RUN_ID, None, task=None, after=first.next_after, limit=3)
        return messages(first.items), first.next_after, messages(rest.items), rest.next_after

    first, next_after, rest, end = asyncio.run(scenario())

    assert (first, next_after) == (["line 0", "line 1", "line 2"], 3)
    assert (rest, end) == (["line 3", "line 4"], None)


def test_a_task_filter_reads_a_bounded_number_of_records_per_page() -> None:
    backend = backend_with(PENDING)

    async def scenario() -> list[tuple[list[str], int | None]]:
        await backend.logs.publish([record("noise", "a") for _ in range(PAGE_SCAN + 50)])
        await backend.logs.publish([record("wanted", "b"), record("noise", "a")])
        logs = service(backend)
        pages = []
        after = 0
        while True:
            page = await logs.page(RUN_ID, None, task="b", after=after, limit=10)
            pages.append((messages(page.items), page.next_after))
            if page.next_after is None:
                return pages
            after = page.next_after

    pages = asyncio.run(scenario())

    assert pages == [([], PAGE_SCAN), (["wanted"], None)]


def test_a_log_that_ends_with_a_system_record_is_truncated() -> None:
    backend = backend_with(PENDING)

    async def scenario() -> tuple[bool, bool]:
        logs = service(backend)
        await backend.logs.publish([record("kept")])
        before = (await logs.page(RUN_ID, None, task=None, after=0, limit=1)).truncated
        await backend.logs.publish([record("log limit ...", None, LogStream.SYSTEM)])
        after = (await logs.page(RUN_ID, None, task="a", after=0, limit=1)).truncated
        return before, after

    assert asyncio.run(scenario()) == (False, True)


def test_another_tenants_run_has_no_log() -> None:
    backend = backend_with(dataclasses.replace(PENDING, tenant_id="acme"))
    logs = service(backend)

    with pytest.raises(RunNotFound):
        asyncio.run(logs.page(RUN_ID, "evil", task=None, after=0, limit=1))
    with pytest.raises(RunNotFound):
        asyncio.run(logs.follow(RUN_ID, "evil", 0))
    assert asyncio.run(logs.page(RUN_ID, "acme", task=None, after=0, limit=1)).items == ()


def ended(snapshot: RunSnapshot, status: RunStatus) -> bytes:
    return SNAPSHOT.encode(dataclasses.replace(snapshot, status=status))


async def collect(events: AsyncIterator[LogEvent], into: list[LogEvent]) -> None:
    async for event in events:
        into.append(event)


def test_a_follow_sends_records_as_they_come_and_ends_after_the_run() -> None:
    backend = backend_with(PENDING)
    hub = WatchHub()

    async def scenario() -> list[LogEvent]:
        await backend.logs.publish([record("before")])
        follow = await service(backend, hub).follow(RUN_ID, None, 0)
        got: list[LogEvent] = []
        reading = asyncio.create_task(collect(follow.events("a", 30.0, 30.0), got))
        await eventually(lambda: len(got) == 1)
        await backend.logs.publish([record("live"), record("other task", "b")])
        await eventually(lambda: len(got) == 2)
        await backend.logs.publish([record("last")])  # stored before the run's end is written
        hub.publish(RUN_ID, Change(9, ended(PENDING, RunStatus.COMPLETED)))
        await asyncio.wait_for(reading, 5)
        return got

    got = asyncio.run(scenario())

    assert [(event.kind, event.stored and event.stored.record.message) for event in got] == [
        ("log", "before"),
        ("log", "live"),
        ("log", "last"),
        ("end", None),
    ]
    assert got[-1].status is RunStatus.COMPLETED


def test_a_follow_of_an_ended_run_sends_what_is_left_then_the_end() -> None:
    backend = backend_with(dataclasses.replace(PENDING, status=RunStatus.FAILED))

    async def scenario() -> list[LogEvent]:
        await backend.logs.publish([record("one"), record("two")])
        follow = await service(backend).follow(RUN_ID, None, 1)
        return [event async for event in follow.events(None, 30.0, 30.0)]

    got = asyncio.run(scenario())

    assert [event.kind for event in got] == ["log", "end"]
    assert got[0].stored is not None
    assert got[0].stored.record.message == "two"
    assert got[1].status is RunStatus.FAILED


def test_a_quiet_follow_sends_heartbeats_and_stops_at_its_deadline() -> None:
    backend = backend_with(PENDING)

    async def scenario() -> list[str]:
        follow = await service(backend).follow(RUN_ID, None, 0)
        return [event.kind async for event in follow.events(None, 0.55, 0.1)]

    kinds = asyncio.run(scenario())

    assert len(kinds) >= 2
    assert set(kinds) == {"heartbeat"}


@pytest.mark.parametrize("how", ["gateway stops", "run expires"])
def test_a_follow_ends_without_an_end_when_the_run_or_the_gateway_goes(how: str) -> None:
    backend = backend_with(PENDING)
    hub = WatchHub()

    async def scenario() -> list[LogEvent]:
        follow = await service(backend, hub).follow(RUN_ID, None, 0)
        got: list[LogEvent] = []
        reading = asyncio.create_task(collect(follow.events(None, 30.0, 30.0), got))
        await asyncio.sleep(0)
        if how == "gateway stops":
            hub.close()
        else:
            hub.publish(RUN_ID, Change(5, None))
        await asyncio.wait_for(reading, 5)
        return got

    assert asyncio.run(scenario()) == []
    assert hub.watched == 0


class _Announced:
    """A `LogSignal` the test bumps by hand."""

    def __init__(self) -> None:
        self.published = 0
        self._event = asyncio.Event()

    def announce(self) -> None:
        self.published += 1
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True

    async def close(self) -> None:
        pass


class _LateLogs:
    """Runs' logs whose records are announced before they can be read (as on NATS, rarely)."""

    def __init__(self, backend: MemoryBackend) -> None:
        self.inner = backend.logs
        self.announced = _Announced()

    async def publish(self, records: Sequence[LogRecord]) -> None:
        await self.inner.publish(records)

    async def read(self, run_id: str, after: int, limit: int) -> LogSlice:
        return await self.inner.read(run_id, after, limit)

    async def last(self, run_id: str) -> StoredLogRecord | None:
        return await self.inner.last(run_id)

    async def signal(self, run_id: str) -> _Announced:
        return self.announced


def test_a_record_announced_before_it_is_readable_still_comes_at_once() -> None:
    backend = backend_with(PENDING)
    late = _LateLogs(backend)

    async def scenario() -> list[LogEvent]:
        runs = RunService(backend.runs, backend.jobs, backend.settings)
        follow = await RunLogService(late, runs, WatchHub()).follow(RUN_ID, None, 0)
        got: list[LogEvent] = []
        reading = asyncio.create_task(collect(follow.events(None, 30.0, 30.0), got))
        await asyncio.sleep(0.01)
        late.announced.announce()
        await asyncio.sleep(0.01)
        await late.inner.publish([record("late")])  # not announced again
        await eventually(lambda: got, timeout=2.0)  # long before the 30 s heartbeat
        reading.cancel()
        return got

    assert [event.kind for event in asyncio.run(scenario())] == ["log"]
