"""What tasks print and log, captured in real run processes and handed to the run's log sink."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from pyoco_server.domain.records import Job, LogStream
from pyoco_server.domain.snapshot import RunStatus
from pyoco_worker.child import ChildConfig
from pyoco_worker.execution import LogBatch, LogLine, Outcome, RunControl
from pyoco_worker.pool import ProcessPool
from tests.support.pool import GRACE, TEST_TASKS, job, run

OUT, ERR, LOG = LogStream.STDOUT, LogStream.STDERR, LogStream.LOG


class Collected:
    """A `LogSink` that keeps what it receives."""

    def __init__(self) -> None:
        self.batches: list[LogBatch] = []

    def received(self, batch: LogBatch) -> None:
        self.batches.append(batch)

    @property
    def lines(self) -> list[LogLine]:
        return [line for batch in self.batches for line in batch.lines]


@asynccontextmanager
async def pool_of_one(log_max_bytes: int = 1024 * 1024) -> AsyncIterator[ProcessPool]:
    pool = ProcessPool(
        1,
        config=ChildConfig(policy=TEST_TASKS, log_max_bytes=log_max_bytes),
        cancel_grace_sec=GRACE,
    )
    await pool.start()
    try:
        yield pool
    finally:
        await pool.close()


async def executed(pool: ProcessPool, run: Job) -> tuple[Outcome, Collected]:
    sink = Collected()
    outcome = await pool.execute(run, lambda _progress: None, RunControl(), logs=sink)
    return outcome, sink


def test_prints_stderr_and_log_records_reach_the_sink_by_task_in_order() -> None:
    async def scenario() -> tuple[Outcome, Collected, Collected]:
        async with pool_of_one() as pool:
            first = await executed(pool, job("chatty", "chatty_after", x=7))
            second = await executed(pool, job("chatty_after", chatty=1))
            return first[0], first[1], second[1]

    outcome, sink, next_run = run(scenario())

    assert outcome.status is RunStatus.COMPLETED, outcome.error
    seen = [(line.task, line.stream, line.message.splitlines()[0]) for line in sink.lines]
    assert seen == [
        ("chatty", OUT, "out 7"),
        ("chatty", ERR, "err 7"),
        ("chatty", LOG, "info 7"),
        ("chatty", LOG, "warning 7"),
        ("chatty", LOG, "error 7"),
        (None, OUT, "thread 7"),
        ("chatty", OUT, "partial 7"),
        ("chatty_after", OUT, "after 7"),
    ]
    by_text = {line.message.splitlines()[0]: line for line in sink.lines}
    assert (by_text["warning 7"].level, by_text["warning 7"].logger) == ("WARNING", "tests.chatty")
    assert "ValueError: oops" in by_text["error 7"].message  # logger.exception's traceback
    assert by_text["out 7"].level is None
    assert all(batch.dropped == 0 for batch in sink.batches)
    assert {batch.run_id for batch in sink.batches} == {sink.batches[0].run_id}
    # The next run in the same process has its own log, with nothing of the first.
    assert [(line.task, line.message) for line in next_run.lines] == [("chatty_after", "after 1")]


def test_a_run_that_prints_nothing_sends_nothing() -> None:
    async def scenario() -> tuple[Outcome, Collected]:
        async with pool_of_one() as pool:
            return await executed(pool, job("add_one", "to_text", x=1))

    outcome, sink = run(scenario())

    assert outcome.status is RunStatus.COMPLETED
    assert sink.batches == []


def test_the_run_process_keeps_its_limit_and_counts_the_rest() -> None:
    async def scenario() -> tuple[Outcome, Collected]:
        async with pool_of_one(log_max_bytes=35) as pool:
            return await executed(pool, job("talk", lines=5, width=10))

    outcome, sink = run(scenario())

    assert outcome.status is RunStatus.COMPLETED
    assert [line.message for line in sink.lines] == [".........0", ".........1", ".........2"]
    assert sink.batches[-1].dropped == 20


def test_a_process_a_task_forks_writes_to_its_own_stdout(tmp_path: Path) -> None:
    out = tmp_path / "fork.out"

    async def scenario() -> tuple[Outcome, Collected]:
        async with pool_of_one() as pool:
            return await executed(pool, job("print_in_fork", x=3, out_file=str(out)))

    outcome, sink = run(scenario())

    assert outcome.status is RunStatus.COMPLETED, outcome.error
    assert [line.message for line in sink.lines] == ["after the fork 3"]
    assert out.read_text() == "from the fork 3\n"
