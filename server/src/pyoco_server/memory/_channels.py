"""The dead-letter stream, cancel notices, advisories and the metrics source, in memory."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
from collections.abc import Awaitable, Callable

from pyoco_server.domain.codec import CANCEL_NOTICE, DEAD_LETTER
from pyoco_server.domain.records import CancelNotice, DeadLetter, DeadLetterReason, WorkerState
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.subjects import Subjects
from pyoco_server.memory._kv import MemoryWorkerRegistry
from pyoco_server.memory._link import Link
from pyoco_server.memory._queue import MemoryWorkStream
from pyoco_server.ports import (
    AdvisoryHandler,
    DeadLetterSlice,
    Deployment,
    NoticeHandler,
    QueueDepth,
    StoredDeadLetter,
)


class MemorySubscription:
    """A subscription that runs `on_close` when closed."""

    def __init__(self, on_close: Callable[[], Awaitable[None]]) -> None:
        self._on_close = on_close

    async def close(self) -> None:
        """Stop delivering."""
        await self._on_close()


class MemoryDeadLetters:
    """`DeadLetters` in memory: records by sequence, newest first in pages."""

    def __init__(self, link: Link, events: list[str]) -> None:
        self._link = link
        self._events = events
        self.records: dict[int, bytes] = {}
        self._sequence = 0

    @property
    def letters(self) -> list[DeadLetter]:
        """Every kept record, oldest first (for tests)."""
        return [DEAD_LETTER.decode(raw) for _, raw in sorted(self.records.items())]

    async def publish(self, letter: DeadLetter) -> None:
        """Store a dead letter."""
        self._link.check()
        self._sequence += 1
        self.records[self._sequence] = DEAD_LETTER.encode(letter)
        self._events.append(f"dead letter {letter.reason}")

    async def page(
        self,
        *,
        reason: DeadLetterReason | None,
        tag: str | None,
        limit: int,
        before: int | None,
    ) -> DeadLetterSlice:
        """Up to `limit` matching records, newest first, from `before` down."""
        self._link.check()
        start = self._sequence if before is None else before
        matching = [
            stored
            for seq in sorted(self.records, reverse=True)
            if seq <= start and (stored := await self.get(seq)) is not None
            if reason in (None, stored.letter.reason) and tag in (None, stored.letter.tag)
        ]
        items = tuple(matching[:limit])
        more = len(matching) > limit
        return DeadLetterSlice(items, items[-1].seq - 1 if more and items else None)

    async def get(self, seq: int) -> StoredDeadLetter | None:
        """The record at `seq`, or None."""
        self._link.check()
        raw = self.records.get(seq)
        return StoredDeadLetter(seq, DEAD_LETTER.decode(raw)) if raw is not None else None

    async def delete(self, seq: int) -> None:
        """Remove the record at `seq`."""
        self._link.check()
        self.records.pop(seq, None)


class MemoryCancels:
    """`CancelChannel`: every listener gets every notice, soon, on the loop; none are kept."""

    def __init__(self, link: Link) -> None:
        self._link = link
        self._handlers: list[NoticeHandler] = []
        self.sent: list[CancelNotice] = []

    async def notify(self, notice: CancelNotice) -> None:
        """Send a notice to every listener."""
        self._link.check()
        decoded = CANCEL_NOTICE.decode(CANCEL_NOTICE.encode(notice))
        self.sent.append(decoded)
        for handler in list(self._handlers):
            asyncio.get_running_loop().create_task(handler(decoded))

    async def listen(self, handler: NoticeHandler) -> MemorySubscription:
        """Receive every notice from now on."""
        self._link.check()
        self._handlers.append(handler)

        async def remove() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return MemorySubscription(remove)


class MemoryAdvisories:
    """`AdvisoryChannel`: the work stream's max-deliveries advisories (one listener each)."""

    def __init__(self, stream: MemoryWorkStream, link: Link) -> None:
        self._stream = stream
        self._link = link

    async def listen(self, handler: AdvisoryHandler) -> MemorySubscription:
        """Join the listeners."""
        self._link.check()
        return MemorySubscription(self._stream.listen_advisories(handler))


class MemoryDeployment:
    """`DeploymentSource` from the in-memory stream, registry and dead letters."""

    def __init__(
        self,
        settings: Settings,
        stream: MemoryWorkStream,
        registry: MemoryWorkerRegistry,
        dead_letters: MemoryDeadLetters,
    ) -> None:
        self._settings = settings
        self._stream = stream
        self._registry = registry
        self._dead_letters = dead_letters
        self._subjects = Subjects.from_settings(settings)

    async def read(self) -> Deployment:
        """Queues by tag, workers by shown state, the dead-letter count."""
        now = time.time()
        timeout = self._settings.worker_disconnect_timeout_sec
        workers = collections.Counter(
            record.shown_state(now, timeout) for record in await self._registry.all()
        )
        return Deployment(
            self._queues(), dict[WorkerState, int](workers), len(self._dead_letters.records)
        )

    async def queue(self, tag: str) -> QueueDepth | None:
        """The jobs of `tag` (None when no worker has subscribed to it)."""
        self._stream.check()
        if tag not in self._stream.consumers:
            return None
        found = {queue.tag: queue for queue in self._queues()}.get(tag, QueueDepth(tag, 0, 0, 0))
        delivered = self._stream.consumers[tag]
        return dataclasses.replace(found, delivered_seq=delivered)

    def _queues(self) -> tuple[QueueDepth, ...]:
        by_tag: dict[str, list[int]] = {}
        for message in self._stream.messages.values():
            tag = self._subjects.tag_of_work_subject(message.subject)
            counts = by_tag.setdefault(tag, [0, 0, 0])
            if message.in_flight:
                counts[1] += 1
                counts[2] += message.delivered > 1
            elif not message.exhausted:
                counts[0] += 1
        return tuple(QueueDepth(tag, *counts) for tag, counts in sorted(by_tag.items()))
