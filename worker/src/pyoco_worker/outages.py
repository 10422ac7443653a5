"""Riding out NATS's short outages before a run starts.

A cluster electing a leader, a reconnect to another node, a read that lags the write it lost
to. Before the run starts nothing has happened yet, so a step can simply be done again; waiting
for NATS here rather than returning the job keeps one of the job's deliveries.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pyoco_server.domain.errors import BackendUnavailable
from pyoco_server.ports import RunStore, StoredSnapshot

log = logging.getLogger(__name__)

T = TypeVar("T")

WaitReady = Callable[[float], Awaitable[bool]]
"""Waits (up to the time given) for NATS to be back; True once it is."""

REREAD_DELAYS_SEC = (0.05, 0.2, 0.5, 1.0)


async def never_ready(_timeout: float) -> bool:
    """A `WaitReady` for stores that are never away (in-memory ones)."""
    return False


async def through_outage(
    step: Callable[[], Awaitable[T]], wait_ready: WaitReady, within: float
) -> T:
    """`step()`, done again once NATS is back while it is away, for up to `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            return await step()
        except BackendUnavailable:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await wait_ready(remaining):
                raise


async def read_after_conflict(store: RunStore, run_id: str) -> StoredSnapshot | None:
    """The run a create just lost to, read again while the read does not find it yet.

    A write refused because the run exists, then a read that finds no run: the read lagged
    (a replica just back, a leader just elected). Once reads agree it is gone, it is gone
    (deleted meanwhile).
    """
    for delay in (*REREAD_DELAYS_SEC, None):
        stored = await store.get(run_id)
        if stored is not None or delay is None:
            return stored
        log.info("run %s exists but was not read back yet; reading again", run_id)
        await asyncio.sleep(delay)
    return None
