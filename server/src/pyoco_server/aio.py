"""Small asyncio helpers shared by the gateway and the worker."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from pyoco_server.domain.errors import BackendUnavailable

T = TypeVar("T")

log = logging.getLogger(__name__)

STALL_CHECK_INTERVAL_SEC = 0.5
STALL_WARNING_SEC = 1.0

_CANCEL_AGAIN_SEC = 1.0


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` and wait for it to finish, without swallowing our own cancellation.

    The cancellation is repeated until the task ends: on Python 3.11, `asyncio.wait_for` (which
    nats-py's requests use) returns its result when the awaited future completes together with
    the cancellation, and the task, having lost it, goes on to wait for something else.
    """
    if task is None or task.done():
        return
    await cancel_all([task])
    if not task.cancelled():
        task.result()  # what it raised instead, as awaiting it would


async def cancel_all(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel `tasks` and wait until each has ended (what they raised is not raised here).

    As `cancel_and_wait`, a task still running a moment after its cancellation is cancelled
    again.
    """
    tasks = list(tasks)
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=_CANCEL_AGAIN_SEC)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not report it as never retrieved


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


@functools.cache
def backoff(within: float, first: float = 0.1, longest: float = 2.0) -> tuple[float, ...]:
    """Waits that double from `first` up to `longest`, adding up to about `within` seconds.

    Cached: the worker asks for the same waits for every run.
    """
    delays: list[float] = []
    delay = first
    while sum(delays) + delay <= within:
        delays.append(delay)
        delay = min(delay * 2, longest)
    return tuple(delays)


async def report_stalls(
    what: str,
    quiet: asyncio.Event,
    *,
    interval: float = STALL_CHECK_INTERVAL_SEC,
    threshold: float = STALL_WARNING_SEC,
) -> None:
    """Log a warning each time this event loop was held up `threshold` seconds or more.

    Every `interval` the loop is asked to wake this task; it waking late means that nothing on
    the loop ran meanwhile: blocking code on the loop, a machine starved of CPU, a process
    stopped (SIGSTOP) or swapped out. Every timer fires that much late too (run timeouts,
    heartbeats, keepalives), so the log says so where the delays begin. Ends when `quiet` is set.
    """
    while True:
        due = time.monotonic() + interval
        try:
            await asyncio.wait_for(quiet.wait(), interval)
        except TimeoutError:
            pass
        else:
            return
        late = time.monotonic() - due
        if late >= threshold:
            log.warning(
                "%s's event loop ran nothing for %.1f s (blocking code, a machine short of CPU, "
                "or the process stopped); its timers (run timeouts, heartbeats) fired that late",
                what,
                late,
            )
