"""The work stream in memory: jobs by tag, pulled by consumers, acked, redelivered, exhausted.

What the worker loop can observe of JetStream is kept: a message id deduplicates publishes; one
consumer per tag, shared by its subscribers; a fetch returns what is deliverable at once, waits up
to its timeout otherwise, and counts each delivery; an unacknowledged delivery comes back after the
ack wait (in-progress acks push that back); `nak(delay)` returns it after `delay`; a job delivered
`max_deliver` times is not delivered again but stays in the stream, and an advisory is sent once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable

from pyoco_server.domain.codec import JOB
from pyoco_server.domain.errors import PayloadTooLarge
from pyoco_server.domain.records import Job, MaxDeliveriesAdvisory
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.subjects import Subjects
from pyoco_server.memory._link import Link
from pyoco_server.ports import AdvisoryHandler, Delivery

MAX_PAYLOAD = 1024 * 1024
"""nats-server's default max payload."""
_DUPLICATE_WINDOW_SEC = 120.0


@dataclasses.dataclass
class Message:
    """A job message in the stream, and its consumer's view of it."""

    seq: int
    subject: str
    data: bytes
    delivered: int = 0
    due: float = 0.0
    """When it may be delivered (again): now for a new one; after the ack wait or a nak delay."""
    in_flight: bool = False
    exhausted: bool = False


class MemoryWorkStream:
    """The messages of the work stream by sequence (`WorkStream`), with its consumers."""

    def __init__(self, settings: Settings, link: Link, events: list[str]) -> None:
        self.settings = settings
        self._link = link
        self._events = events
        self._subjects = Subjects.from_settings(settings)
        self.messages: dict[int, Message] = {}
        self._sequence = 0
        self._seen: dict[str, tuple[float, int]] = {}
        self._changed = asyncio.Condition()
        self._advisories: list[AdvisoryHandler] = []
        self._next_listener = 0
        self.consumers: dict[str, int] = {}
        """Tag -> the sequence of the last message its consumer delivered (0: none yet)."""

    def check(self) -> None:
        """Raise while the link is cut."""
        self._link.check()

    async def get(self, sequence: int) -> tuple[str, bytes] | None:
        """The subject and payload of message `sequence`, or None."""
        self._link.check()
        message = self.messages.get(sequence)
        return (message.subject, message.data) if message else None

    async def delete(self, sequence: int) -> bool:
        """Remove message `sequence`; False when it was already gone."""
        self._link.check()
        return self.messages.pop(sequence, None) is not None

    def add(self, subject: str, data: bytes, msg_id: str) -> int:
        """Append a message unless `msg_id` was seen within the duplicate window; its sequence.

        A duplicate gets the sequence of the message it repeats, as JetStream answers.
        """
        now = time.monotonic()
        # Oldest first (insertion order): drop the expired ones from the front, O(1) amortized.
        while self._seen:
            oldest = next(iter(self._seen))
            if now - self._seen[oldest][0] < _DUPLICATE_WINDOW_SEC:
                break
            del self._seen[oldest]
        if msg_id in self._seen:
            return self._seen[msg_id][1]
        self._sequence += 1
        self._seen[msg_id] = (now, self._sequence)
        self.messages[self._sequence] = Message(self._sequence, subject, data, due=now)
        self.changed()
        return self._sequence

    def changed(self) -> None:
        """Wake the fetches (a message became deliverable)."""
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def take(self, tag: str, batch: int, timeout: float) -> list[MemoryDelivery]:
        """Up to `batch` deliverable jobs of `tag`, waiting up to `timeout` for the first."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                self._link.check()
                taken = self._deliverable(tag, batch)
                remaining = deadline - time.monotonic()
                if taken or remaining <= 0:
                    return [self._deliver(message) for message in taken]
                wake = min(remaining, self._next_due(tag) - time.monotonic())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), max(wake, 0.001))

    def _deliverable(self, tag: str, batch: int) -> list[Message]:
        now = time.monotonic()
        subject = self._subjects.work(tag)
        ready = [
            message
            for message in self.messages.values()
            if message.subject == subject and not message.exhausted and message.due <= now
        ]
        for message in ready:
            if message.delivered >= self.settings.consumer_deliveries:
                self._exhaust(message)
        return [message for message in ready if not message.exhausted][:batch]

    def _next_due(self, tag: str) -> float:
        subject = self._subjects.work(tag)
        dues = [
            message.due
            for message in self.messages.values()
            if message.subject == subject and not message.exhausted
        ]
        return min(dues, default=float("inf"))

    def _deliver(self, message: Message) -> MemoryDelivery:
        tag = self._subjects.tag_of_work_subject(message.subject)
        self.consumers[tag] = max(self.consumers.get(tag, 0), message.seq)
        message.delivered += 1
        message.in_flight = True
        message.due = time.monotonic() + self.settings.consumer_ack_wait_sec
        return MemoryDelivery(self, message.seq, message.subject, message.data, message.delivered)

    def _exhaust(self, message: Message) -> None:
        message.exhausted = True
        message.in_flight = False
        advisory = MaxDeliveriesAdvisory(
            stream=self.settings.work_stream,
            consumer=self._subjects.consumer(self._subjects.tag_of_work_subject(message.subject)),
            stream_seq=message.seq,
            deliveries=message.delivered,
        )
        self._events.append(f"advisory {message.seq}")
        if self._advisories:  # one listener of the queue group gets it; nobody: it is lost
            handler = self._advisories[self._next_listener % len(self._advisories)]
            self._next_listener += 1
            asyncio.get_running_loop().create_task(handler(advisory))

    def settle(self, seq: int, action: str, delay: float | None = None) -> None:
        """Apply an acknowledgement to a delivered message."""
        self._link.check()
        self._events.append(f"{action} {delay}" if action == "nak" else action)
        message = self.messages.get(seq)
        if message is None:
            return
        if action in ("ack", "term"):
            del self.messages[seq]
        elif action == "nak":
            message.in_flight = False
            message.due = time.monotonic() + (delay or 0.0)
            self.changed()
        elif action == "in_progress" and message.in_flight:
            message.due = time.monotonic() + self.settings.consumer_ack_wait_sec

    def listen_advisories(self, handler: AdvisoryHandler) -> Callable[[], Awaitable[None]]:
        """Add an advisory listener; returns how to remove it."""
        self._advisories.append(handler)

        async def remove() -> None:
            if handler in self._advisories:
                self._advisories.remove(handler)

        return remove


@dataclasses.dataclass
class MemoryDelivery:
    """One delivery of a message (`Delivery`)."""

    stream: MemoryWorkStream
    seq: int
    subject: str
    data: bytes
    attempt: int

    async def ack(self) -> None:
        """Done: remove the message."""
        self.stream.settle(self.seq, "ack")

    async def nak(self, delay: float | None = None) -> None:
        """Deliver the message again after `delay`."""
        self.stream.settle(self.seq, "nak", delay)

    async def term(self) -> None:
        """Never deliver the message again."""
        self.stream.settle(self.seq, "term")

    async def in_progress(self) -> None:
        """Restart the ack timer."""
        self.stream.settle(self.seq, "in_progress")

    def __hash__(self) -> int:
        return hash((self.seq, self.attempt))


class MemoryJobQueue:
    """`JobQueue` on the in-memory work stream."""

    def __init__(self, stream: MemoryWorkStream, link: Link) -> None:
        self._stream = stream
        self._link = link
        self._subjects = Subjects.from_settings(stream.settings)

    async def publish(self, job: Job, msg_id: str | None = None) -> int:
        """Queue a job (deduplicated by `msg_id`, default the run id); its sequence."""
        self._link.check()
        data = JOB.encode(job)
        if len(data) > MAX_PAYLOAD:
            raise PayloadTooLarge("the run's job message", len(data), MAX_PAYLOAD)
        return self._stream.add(self._subjects.work(job.tag), data, msg_id or job.run_id)

    async def subscribe(self, tag: str) -> MemoryTagSubscription:
        """A handle on the consumer of `tag`."""
        self._link.check()
        self._stream.consumers.setdefault(tag, 0)
        return MemoryTagSubscription(tag, self._stream)


class MemoryTagSubscription:
    """A worker's handle on a tag's consumer (`TagSubscription`)."""

    def __init__(self, tag: str, stream: MemoryWorkStream) -> None:
        self.tag = tag
        self._stream = stream
        self.closed = False

    async def fetch(self, batch: int, timeout: float) -> list[Delivery]:
        """Up to `batch` jobs, waiting up to `timeout`."""
        return list(await self._stream.take(self.tag, batch, timeout))

    async def close(self) -> None:
        """Stop fetching."""
        self.closed = True
