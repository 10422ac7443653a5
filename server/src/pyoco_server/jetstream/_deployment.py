"""What a metrics scrape reads from NATS: queue depth per tag, workers, dead letters."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable

import nats.js.errors

from pyoco_server.domain.records import WorkerState
from pyoco_server.domain.subjects import Subjects
from pyoco_server.jetstream._connection import Connection, translate_errors
from pyoco_server.jetstream._worker_registry import NatsWorkerRegistry
from pyoco_server.ports import Deployment, QueueDepth


class NatsDeployment:
    """`DeploymentSource` on NATS: three requests, made concurrently (`queue`: one).

    The consumer listing covers up to 256 consumers (JetStream's page size): one per tag.
    """

    def __init__(self, connection: Connection, *, clock: Callable[[], float] = time.time) -> None:
        self._connection = connection
        self._settings = connection.settings
        self._registry = NatsWorkerRegistry(connection)
        self._subjects = Subjects.from_settings(connection.settings)
        self._clock = clock

    async def read(self) -> Deployment:
        """Queues, workers and dead letters now; `BackendUnavailable` when NATS cannot answer."""
        # The reads only read: when one fails, the others may simply finish.
        queues, workers, dead_letters = await asyncio.gather(
            self._queues(), self._workers(), self._dead_letters()
        )
        return Deployment(queues, workers, dead_letters)

    async def queue(self, tag: str) -> QueueDepth | None:
        """The jobs of `tag` as its durable consumer sees them; None when it has none."""
        with translate_errors(f"reading the consumer of tag {tag!r}"):
            try:
                info = await self._connection.js.consumer_info(
                    self._settings.work_stream, self._subjects.consumer(tag)
                )
            except nats.js.errors.NotFoundError:
                return None
        return QueueDepth(
            tag=tag,
            pending=info.num_pending or 0,
            in_flight=info.num_ack_pending or 0,
            redelivered=info.num_redelivered or 0,
            delivered_seq=info.delivered.stream_seq if info.delivered else None,
        )

    async def _queues(self) -> tuple[QueueDepth, ...]:
        prefix = f"{self._settings.consumer_prefix}_"
        with translate_errors("listing the consumers of the work stream"):
            consumers = await self._connection.js.consumers_info(self._settings.work_stream)
        return tuple(
            QueueDepth(
                tag=info.name.removeprefix(prefix),
                pending=info.num_pending or 0,
                in_flight=info.num_ack_pending or 0,
                redelivered=info.num_redelivered or 0,
            )
            for info in consumers
            if info.name.startswith(prefix)
        )

    async def _workers(self) -> dict[WorkerState, int]:
        now = self._clock()
        timeout = self._settings.worker_disconnect_timeout_sec
        records = await self._registry.all()
        return dict(collections.Counter(record.shown_state(now, timeout) for record in records))

    async def _dead_letters(self) -> int:
        with translate_errors("reading the dead-letter stream"):
            info = await self._connection.js.stream_info(self._settings.dlq_stream)
        return int(info.state.messages or 0)
