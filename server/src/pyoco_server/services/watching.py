"""Run changes fanned out to the gateway's open watches, in memory.

The gateway's watch on the runs bucket (the same one that feeds the run index) publishes every
change here; each `GET /runs/{run_id}/watch` subscribes to its run. No watch costs a NATS
consumer of its own, and no watch polls.
"""

from __future__ import annotations

import asyncio
import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """A new revision of a run's snapshot (`raw` None: the run was deleted or expired)."""

    revision: int
    raw: bytes | None


CLOSED = Change(0, None)
"""Put in every queue by `WatchHub.close`: the stream ends so that its client reconnects."""


class WatchHub:
    """Subscriptions to the changes of single runs."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[asyncio.Queue[Change]]] = {}
        self._closed = False

    def subscribe(self, run_id: str) -> asyncio.Queue[Change]:
        """A queue that receives every later change of `run_id`; unsubscribe when done."""
        queue: asyncio.Queue[Change] = asyncio.Queue()
        self._listeners.setdefault(run_id, set()).add(queue)
        if self._closed:
            queue.put_nowait(CLOSED)
        return queue

    def close(self) -> None:
        """End every stream (the gateway is shutting down; clients resume elsewhere)."""
        self._closed = True
        for listeners in self._listeners.values():
            for queue in listeners:
                queue.put_nowait(CLOSED)

    def unsubscribe(self, run_id: str, queue: asyncio.Queue[Change]) -> None:
        """Stop delivering to `queue`."""
        listeners = self._listeners.get(run_id)
        if listeners is not None:
            listeners.discard(queue)
            if not listeners:
                del self._listeners[run_id]

    def publish(self, run_id: str, change: Change) -> None:
        """Deliver a change to the run's subscribers (a no-op when nobody watches it)."""
        for queue in self._listeners.get(run_id, ()):
            queue.put_nowait(change)

    @property
    def watched(self) -> int:
        """How many runs have at least one watch."""
        return len(self._listeners)
