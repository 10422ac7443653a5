"""The worker's side of task logs: records per attempt, the run's limit, order before the end."""

from __future__ import annotations

import asyncio
import logging

import pytest

from pyoco_server.domain.codec import JOB
from pyoco_server.domain.records import Job, LogRecord, LogStream
from pyoco_server.domain.snapshot import RunStatus
from pyoco_server.memory import MemoryBackend
from pyoco_worker.execution import (
    NO_CODE,
    Installed,
    LogBatch,
    LogLine,
    LogSink,
    Outcome,
    ProgressCallback,
    RunControl,
)
from pyoco_worker.logs import LogPublisher
from pyoco_worker.runner import JobRunner
from tests.support.fakes import COMPLETED, FakeDelivery
from tests.support.memory import backend_with
from tests.support.samples import A_JOB, NOW, PENDING, RUN_ID

OUT = LogStream.STDOUT


def line(message: str, task: str | None = "a") -> LogLine:
    return LogLine(task, OUT, message, NOW)


def batch(*messages: str, dropped: int = 0, run_id: str = RUN_ID) -> LogBatch:
    return LogBatch(run_id, tuple(line(message) for message in messages), dropped)


def stored(backend: MemoryBackend) -> list[tuple[int, LogStream, str]]:
    return [(r.attempt, r.stream, r.message) for r in backend.logs.records(RUN_ID)]


async def attempt_log(
    backend: MemoryBackend, attempt: int, *batches: LogBatch, max_bytes: int = 1000
) -> None:
    publisher = LogPublisher(backend.logs, max_bytes, close_timeout=5.0, clock=lambda: NOW)
    async with publisher.attempt(RUN_ID, attempt) as run_log:
        assert run_log is not None
        for each in batches:
            run_log.received(each)
            await asyncio.sleep(0)


def test_lines_become_records_of_the_run_and_attempt_in_order() -> None:
    backend = MemoryBackend()
    asyncio.run(attempt_log(backend, 2, batch("one", "two"), batch("three")))

    [first, *_] = backend.logs.records(RUN_ID)
    assert first == LogRecord(RUN_ID, 2, OUT, "one", NOW, task="a")
    assert stored(backend) == [(2, OUT, "one"), (2, OUT, "two"), (2, OUT, "three")]


def test_batches_of_other_runs_are_ignored() -> None:
    backend = MemoryBackend()
    asyncio.run(attempt_log(backend, 1, batch("mine"), batch("theirs", run_id="run-2")))

    assert stored(backend) == [(1, OUT, "mine")]
    assert backend.logs.records("run-2") == []


def test_what_the_run_process_dropped_ends_the_log_with_one_system_record() -> None:
    backend = MemoryBackend()
    asyncio.run(attempt_log(backend, 1, batch("kept"), batch(dropped=7), max_bytes=6))

    assert stored(backend) == [
        (1, OUT, "kept"),
        (1, LogStream.SYSTEM, "log limit of 6 bytes reached; 7 bytes dropped"),
    ]


def test_the_limit_is_the_runs_across_attempts() -> None:
    backend = MemoryBackend()
    asyncio.run(attempt_log(backend, 1, batch("12345678"), max_bytes=10))
    asyncio.run(attempt_log(backend, 2, batch("9", "too much", "x"), max_bytes=10))

    assert stored(backend) == [
        (1, OUT, "12345678"),
        (2, OUT, "9"),
        (2, LogStream.SYSTEM, "log limit of 10 bytes reached; 9 bytes dropped"),
    ]


def test_once_a_runs_log_is_cut_later_attempts_store_nothing() -> None:
    backend = MemoryBackend()
    asyncio.run(attempt_log(backend, 1, batch("123456", dropped=3), max_bytes=6))
    asyncio.run(attempt_log(backend, 2, batch("more", dropped=2), max_bytes=6))

    assert [stream for _, stream, _ in stored(backend)] == [OUT, LogStream.SYSTEM]


def test_an_outage_loses_records_never_the_run(caplog: pytest.LogCaptureFixture) -> None:
    backend = MemoryBackend()

    async def scenario() -> None:
        backend.cut()
        await attempt_log(backend, 1, batch("lost"), batch("lost too"))
        backend.restore()

    with caplog.at_level(logging.WARNING, logger="pyoco_worker.logs"):
        asyncio.run(scenario())

    assert stored(backend) == []
    assert [r.getMessage() for r in caplog.records] == [
        "run run-1: log records lost: the in-memory backend is down (a test cut it)"
    ]


def test_close_waits_only_so_long_for_records_to_be_stored() -> None:
    backend = MemoryBackend()
    stuck = asyncio.Event()

    async def never_stored(records: object) -> None:
        await stuck.wait()

    async def scenario() -> float:
        backend.logs.publish = never_stored  # type: ignore[method-assign]
        publisher = LogPublisher(backend.logs, 1000, close_timeout=0.2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with publisher.attempt(RUN_ID, 1) as run_log:
            assert run_log is not None
            run_log.received(batch("slow"))
        waited = loop.time() - started
        stuck.set()
        return waited

    assert 0.2 <= asyncio.run(scenario()) < 5.0


class PrintingExecutor:
    """Runs nothing; sends the run's log what a run process would, then `COMPLETED`."""

    def __init__(self, events: list[str], *batches: LogBatch) -> None:
        self.events = events
        self.batches = batches

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    def code_in_use(self) -> set[str]:
        return set()

    def extend_lease(self, until: float) -> None:
        pass

    async def execute(
        self,
        job: Job,
        on_progress: ProgressCallback,
        control: RunControl,
        installed: Installed = NO_CODE,
        logs: LogSink | None = None,
    ) -> Outcome:
        self.events.append("execute")
        assert logs is not None
        for each in self.batches:
            logs.received(each)
        return COMPLETED


def run_with_logs(*batches: LogBatch) -> MemoryBackend:
    backend = backend_with(PENDING)
    runner = JobRunner(
        store=backend.runs,
        dead_letters=backend.dead_letters,
        executor=PrintingExecutor(backend.events, *batches),
        settings=backend.settings,
        worker_id="w1",
        clock=lambda: NOW,
        logs=LogPublisher(backend.logs, 1000),
    )
    delivery = FakeDelivery(JOB.encode(A_JOB), backend.events, "pyoco.work.default", 1, None)
    status = asyncio.run(asyncio.wait_for(runner.handle(delivery), 10))
    assert status is RunStatus.COMPLETED
    return backend


def test_the_runner_stores_a_runs_log_before_it_writes_the_end() -> None:
    backend = run_with_logs(batch("one"), batch("two", "three"))

    assert backend.events == [
        "write RUNNING",
        "execute",
        "logs 1",
        "logs 2",
        "write COMPLETED",
        "ack",
    ]
    assert [record.message for record in backend.logs.records(RUN_ID)] == ["one", "two", "three"]


def test_a_run_that_prints_nothing_costs_no_log_request() -> None:
    backend = run_with_logs()

    assert backend.events == ["write RUNNING", "execute", "write COMPLETED", "ack"]
