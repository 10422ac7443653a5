"""JetStream's max-deliveries advisories, and direct access to work-stream messages."""

from __future__ import annotations

import logging

import nats.js.errors
from nats.aio.msg import Msg

from pyoco_server.domain.codec import MAX_DELIVERIES
from pyoco_server.domain.errors import BackendUnavailable, DecodeError
from pyoco_server.domain.subjects import Subjects
from pyoco_server.jetstream._connection import Connection, NatsSubscription, translate_errors
from pyoco_server.ports import AdvisoryHandler

log = logging.getLogger(__name__)

_NO_MESSAGE_TO_DELETE = 10057
"""JetStream's error code for the delete of a message that is not in the stream."""


class NatsWorkStream:
    """Messages of the work stream by sequence (a job left behind by exhausted deliveries)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._stream = connection.settings.work_stream

    async def get(self, sequence: int) -> tuple[str, bytes] | None:
        """The subject and payload of message `sequence`, or None when it is gone."""
        with translate_errors("reading a job"):
            try:
                message = await self._connection.js.get_msg(self._stream, sequence)
            except nats.js.errors.NotFoundError:
                return None
        return str(message.subject), bytes(message.data or b"")

    async def delete(self, sequence: int) -> bool:
        """Remove message `sequence`; False when it was already gone."""
        with translate_errors("removing a job"):
            try:
                await self._connection.js.delete_msg(self._stream, sequence)
            except nats.js.errors.NotFoundError:
                return False
            except nats.js.errors.APIError as exc:
                # The server answers 500 "no message found" (10057) to the delete of a message
                # that is gone: acknowledged by a worker, or already removed.
                if exc.err_code == _NO_MESSAGE_TO_DELETE:
                    return False
                raise
        return True


class NatsAdvisories:
    """JetStream's max-deliveries advisories for the consumers of the work stream.

    Gateways and workers all listen in one queue group, so each advisory is handled once, by
    whichever process is up (advisories are not stored: with nobody listening it is missed).
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._subjects = Subjects.from_settings(connection.settings)

    async def listen(self, handler: AdvisoryHandler) -> NatsSubscription:
        """Call `handler` for each advisory; invalid ones are logged and dropped."""

        async def on_message(msg: Msg) -> None:
            try:
                advisory = MAX_DELIVERIES.decode(msg.data)
            except DecodeError as exc:
                log.warning("ignoring an invalid advisory on %s: %s", msg.subject, exc)
                return
            try:
                await handler(advisory)
            except BackendUnavailable as exc:
                log.error(
                    "max-deliveries advisory for message %d not handled: %s",
                    advisory.stream_seq,
                    exc,
                )

        with translate_errors("listening for max-deliveries advisories"):
            subscription = await self._connection.nc.subscribe(
                self._subjects.max_deliveries_all,
                queue=self._subjects.advisory_queue_group,
                cb=on_message,
            )
        return NatsSubscription(subscription)
