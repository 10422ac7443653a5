"""`JobQueue` and per-tag pull subscriptions on the `PYOCO_WORK` stream."""

from __future__ import annotations

import logging

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from pyoco_server.domain.codec import JOB
from pyoco_server.domain.errors import PayloadTooLarge
from pyoco_server.domain.records import Job
from pyoco_server.domain.subjects import Subjects
from pyoco_server.jetstream._capacity import refused_when_full
from pyoco_server.jetstream._connection import Connection, translate_errors
from pyoco_server.jetstream._positions import position
from pyoco_server.ports import Delivery

log = logging.getLogger(__name__)


class NatsJobQueue:
    """Publishes jobs on `pyoco.work.<tag>` with `Nats-Msg-Id` = run id."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._subjects = Subjects.from_settings(connection.settings)

    async def publish(self, job: Job, msg_id: str | None = None) -> int:
        """Queue a job; its sequence in the work stream.

        JetStream drops a second publish with the same `msg_id` (default: the run id) within
        its 2-minute duplicate window, and answers with the first one's sequence.
        """
        data = JOB.encode(job)
        nc = self._connection.nc
        if len(data) > nc.max_payload:
            raise PayloadTooLarge("the run's job message", len(data), nc.max_payload)
        with (
            translate_errors("queueing the job"),
            refused_when_full("the work queue", "PYOCO_WORK_MAX_BYTES"),
        ):
            return await self._connection.publish_acked(
                self._subjects.work(job.tag),
                data,
                {
                    "Nats-Msg-Id": msg_id or job.run_id,
                    "Nats-Expected-Stream": self._connection.settings.work_stream,
                },
            )

    async def subscribe(self, tag: str) -> NatsTagSubscription:
        """Bind to the shared durable consumer of `tag`, creating or updating it."""
        settings = self._connection.settings
        consumer = self._subjects.consumer(tag)
        config = ConsumerConfig(
            durable_name=consumer,
            filter_subject=self._subjects.work(tag),
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=settings.consumer_ack_wait_sec,
            max_deliver=settings.consumer_deliveries,
            max_ack_pending=settings.consumer_max_ack_pending,
        )
        js = self._connection.js
        with translate_errors(f"creating the consumer of tag {tag!r}"):
            await js.add_consumer(settings.work_stream, config)
            subscription = await js.pull_subscribe_bind(consumer, stream=settings.work_stream)
        return NatsTagSubscription(tag, subscription)


class NatsDelivery:
    """A delivered job message."""

    __slots__ = ("_msg", "attempt", "seq")

    def __init__(self, msg: Msg) -> None:
        self._msg = msg
        seq, delivered, _ = position(msg)
        self.attempt = delivered or 1
        self.seq = seq

    @property
    def data(self) -> bytes:
        """The raw payload."""
        return bytes(self._msg.data)

    @property
    def subject(self) -> str:
        """The work subject."""
        return str(self._msg.subject)

    async def ack(self) -> None:
        """Remove the job from the queue."""
        with translate_errors("acknowledging the job"):
            await self._msg.ack()

    async def nak(self, delay: float | None = None) -> None:
        """Deliver the job again, after `delay` seconds."""
        with translate_errors("returning the job"):
            await self._msg.nak(delay=delay)

    async def term(self) -> None:
        """Never deliver the job again."""
        with translate_errors("terminating the job"):
            await self._msg.term()

    async def in_progress(self) -> None:
        """Restart the ack timer."""
        with translate_errors("extending the job"):
            await self._msg.in_progress()


class NatsTagSubscription:
    """One worker's pull subscription on the shared consumer of a tag."""

    def __init__(self, tag: str, subscription: object) -> None:
        self.tag = tag
        self._subscription = subscription

    async def fetch(self, batch: int, timeout: float) -> list[Delivery]:
        """Wait up to `timeout` for up to `batch` jobs; [] when none came in time."""
        try:
            messages = await self._subscription.fetch(batch, timeout=timeout)  # type: ignore[attr-defined]
        except (nats.errors.TimeoutError, TimeoutError):
            return []
        except nats.errors.Error as exc:
            with translate_errors(f"fetching jobs of tag {self.tag!r}"):
                raise exc
        return [NatsDelivery(msg) for msg in messages]

    async def close(self) -> None:
        """Unsubscribe (so that a late reply cannot stall the connection's drain)."""
        try:
            await self._subscription.unsubscribe()  # type: ignore[attr-defined]
        except (nats.errors.Error, nats.js.errors.Error) as exc:
            log.debug("unsubscribe of tag %s failed: %s", self.tag, exc)
