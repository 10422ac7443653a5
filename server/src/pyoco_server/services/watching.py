"""Run changes fanned out to the gateway's open watches, in memory.

The gateway's watch on the runs bucket (the same one that feeds the run index) publishes every
change here; each `GET /runs/{run_id}/watch` subscribes to its run. No watch costs a NATS
consumer of its own, and no watch polls. What a stream has not sent yet waits in its `Mailbox`,
which is bounded: a reader slower than the run's changes gets the latest ones, not all.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """A new revision of a run's snapshot (`raw` None: the run was deleted or expired)."""

    revision: int
    raw: bytes | None


CLOSED = Change(0, None)
"""What a closed `Mailbox` gives: the stream ends so that its client reconnects."""

MAILBOX_CHANGES = 8
"""Changes a stream may have waiting (the runs bucket keeps as many revisions by default)."""
MAILBOX_BYTES = 1024 * 1024
"""Bytes of snapshots a stream may have waiting, beyond its latest change."""


class Mailbox:
    """The changes a stream has not sent yet, oldest first, bounded; the latest is always kept.

    Past `MAILBOX_CHANGES` changes or `MAILBOX_BYTES`, the oldest are dropped: a snapshot is
    the run's whole state, so the latest says everything, and the event ids (revisions) still
    increase. A client that wants every revision resumes with Last-Event-ID, which replays them
    from the bucket's history.
    """

    def __init__(self, changes: int = MAILBOX_CHANGES, size: int = MAILBOX_BYTES) -> None:
        self._waiting: collections.deque[Change] = collections.deque()
        self._max_changes = changes
        self._max_bytes = size
        self._bytes = 0
        self._ready = asyncio.Event()
        self._closed = False
        self.dropped = 0
        """Changes dropped so far because the stream fell behind."""

    def put(self, change: Change) -> None:
        """Add a change, dropping the oldest waiting ones over the bounds."""
        self._waiting.append(change)
        self._bytes += len(change.raw or b"")
        while len(self._waiting) > 1 and (
            len(self._waiting) > self._max_changes or self._bytes > self._max_bytes
        ):
            dropped = self._waiting.popleft()
            self._bytes -= len(dropped.raw or b"")
            self.dropped += 1
        self._ready.set()

    def close(self) -> None:
        """End the stream: `get` gives `CLOSED` from now on."""
        self._closed = True
        self._ready.set()

    async def get(self) -> Change:
        """The oldest waiting change, once there is one (`CLOSED` once closed)."""
        while not self._closed and not self._waiting:
            self._ready.clear()
            await self._ready.wait()
        if self._closed:
            return CLOSED
        change = self._waiting.popleft()
        self._bytes -= len(change.raw or b"")
        return change


class WatchHub:
    """Subscriptions to the changes of single runs."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Mailbox]] = {}
        self._closed = False

    def subscribe(self, run_id: str) -> Mailbox:
        """A mailbox that receives every later change of `run_id`; unsubscribe when done."""
        mailbox = Mailbox()
        self._listeners.setdefault(run_id, set()).add(mailbox)
        if self._closed:
            mailbox.close()
        return mailbox

    def close(self) -> None:
        """End every stream (the gateway is shutting down; clients resume elsewhere)."""
        self._closed = True
        for listeners in self._listeners.values():
            for mailbox in listeners:
                mailbox.close()

    def unsubscribe(self, run_id: str, mailbox: Mailbox) -> None:
        """Stop delivering to `mailbox`."""
        listeners = self._listeners.get(run_id)
        if listeners is not None:
            listeners.discard(mailbox)
            if not listeners:
                del self._listeners[run_id]

    def publish(self, run_id: str, change: Change) -> None:
        """Deliver a change to the run's subscribers (a no-op when nobody watches it)."""
        for mailbox in self._listeners.get(run_id, ()):
            mailbox.put(change)

    @property
    def watched(self) -> int:
        """How many runs have at least one watch."""
        return len(self._listeners)
