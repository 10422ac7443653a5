"""Small asyncio helpers shared by the gateway and the worker."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from pyoco_server.domain.errors import BackendUnavailable

T = TypeVar("T")


_CANCEL_AGAIN_SEC = 1.0


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` and wait for it to finish, without swallowing our own cancellation.

    The cancellation is repeated until the task ends: on Python 3.11, `asyncio.wait_for` (which
    nats-py's requests use) returns its result when the awaited future completes together with
    the cancellation, and the task, having lost it, goes on to wait for something else.
    """
    if task is None or task.done():
        return
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=_CANCEL_AGAIN_SEC)
    if not task.cancelled():
        task.result()  # what it raised instead, as awaiting it would


async def through_flaps(
    action: Callable[[], Awaitable[T]],
    delays: Iterable[float],
    on_retry: Callable[[BackendUnavailable, float], None] = lambda _exc, _delay: None,
) -> T:
    """Await `action()`, again after each of `delays` while it raises `BackendUnavailable`.

    For a step that must not be given up at the first sign of a NATS reconnect: the last
    failure propagates once `delays` are used up. `on_retry(error, delay)` is told of each wait.
    """
    for delay in (*delays, None):
        try:
            return await action()
        except BackendUnavailable as exc:
            if delay is None:
                raise
            on_retry(exc, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")


def backoff(within: float, first: float = 0.1, longest: float = 2.0) -> list[float]:
    """Waits that double from `first` up to `longest`, adding up to about `within` seconds."""
    delays: list[float] = []
    delay = first
    while sum(delays) + delay <= within:
        delays.append(delay)
        delay = min(delay * 2, longest)
    return delays
