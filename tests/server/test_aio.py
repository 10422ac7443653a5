"""`cancel_and_wait` and `cancel_all`: a task that loses a cancellation (as Python 3.11's
`asyncio.wait_for` can make it) is cancelled again rather than waited for forever."""

from __future__ import annotations

import asyncio

import pytest

from pyoco_server.aio import cancel_all, cancel_and_wait


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
