"""`cancel_and_wait` and `cancel_all`: a task that loses a cancellation (as Python 3.11's
`asyncio.wait_for` can make it) is cancelled again rather than waited for forever.
`report_stalls`: a loop held up by blocking code is said in the log."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
import uvloop

from pyoco_server.aio import cancel_all, cancel_and_wait, report_stalls


async def swallows_the_first_cancellation(swallowed: asyncio.Event) -> None:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        swallowed.set()  # what a lost cancellation looks like: the task goes on waiting
    await asyncio.Event().wait()


async def fails_when_cancelled() -> None:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        raise RuntimeError("cleanup failed") from None


def test_a_task_that_lost_its_cancellation_is_cancelled_again() -> None:
    async def body() -> None:
        swallowed = asyncio.Event()
        task = asyncio.create_task(swallows_the_first_cancellation(swallowed))
        await asyncio.sleep(0)
        await asyncio.wait_for(cancel_and_wait(task), timeout=10)
        assert swallowed.is_set()
        assert task.cancelled()

    asyncio.run(body())


def test_what_the_task_raised_instead_propagates() -> None:
    async def body() -> None:
        task = asyncio.create_task(fails_when_cancelled())
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="cleanup failed"):
            await cancel_and_wait(task)

    asyncio.run(body())


def test_the_callers_own_cancellation_is_not_swallowed() -> None:
    async def body() -> None:
        swallowed = asyncio.Event()
        task = asyncio.create_task(swallows_the_first_cancellation(swallowed))
        await asyncio.sleep(0)
        waiter = asyncio.create_task(cancel_and_wait(task))
        await swallowed.wait()
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await cancel_and_wait(task)

    asyncio.run(body())


def test_cancel_all_ends_every_task_and_keeps_what_they_raised_to_itself() -> None:
    async def body() -> None:
        swallowed = asyncio.Event()
        tasks = [
            asyncio.create_task(swallows_the_first_cancellation(swallowed)),
            asyncio.create_task(fails_when_cancelled()),
            asyncio.create_task(asyncio.sleep(0)),
        ]
        await asyncio.sleep(0)
        await asyncio.wait_for(cancel_all(tasks), timeout=10)
        assert all(task.done() for task in tasks)
        assert swallowed.is_set()

    asyncio.run(body())


class Told(logging.Handler):
    """Sets `said` when a warning is logged."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.said = asyncio.Event()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self.said.set()


def test_a_loop_held_up_by_blocking_code_is_reported_and_the_report_ends_when_quiet() -> None:
    told = Told()

    async def body() -> None:
        quiet = asyncio.Event()
        reporter = asyncio.create_task(
            report_stalls("the worker", quiet, interval=0.02, threshold=0.4)
        )
        await asyncio.sleep(0.05)
        time.sleep(0.6)  # noqa: ASYNC251 (the stall itself: blocking code on the loop)
        await asyncio.wait_for(told.said.wait(), timeout=10)
        quiet.set()
        await asyncio.wait_for(reporter, timeout=10)

    logger = logging.getLogger("pyoco_server.aio")
    logger.addHandler(told)
    try:
        uvloop.run(body())  # as the worker runs
    finally:
        logger.removeHandler(told)
    (said,) = told.messages
    assert said.startswith("the worker's event loop ran nothing for ")
    assert float(said.split(" for ")[1].split(" s ")[0]) >= 0.5
