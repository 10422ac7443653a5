"""`RunLogs` on the `PYOCO_LOGS` stream: a subject per run, read with batched direct gets.

Publishing: each record is one message on `pyoco.logs.<run_id>`. A batch is sent without
waiting between messages (nats-py's asynchronous publish) and its acknowledgements are awaited
together, within the request timeout, so a caller knows the records are stored.

Reading: JetStream's batched direct get (`{"seq": after + 1, "next_by_subj": <subject>,
"batch": n}`, NATS 2.11 and later) answers with up to n messages of the subject, then an
end-of-batch status that says how many more there are. A page is one request and no consumer,
however many other runs the stream holds: the server finds a subject's messages through its
subject index.

Following: a core subscription to the run's subject counts the records as they are published;
the records themselves (with their sequences) are read from the stream.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

import nats.js.errors
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from pyoco_server.domain.codec import LOG_RECORD, dumps
from pyoco_server.domain.errors import BackendUnavailable, DecodeError
from pyoco_server.domain.records import LogRecord
from pyoco_server.domain.subjects import Subjects
from pyoco_server.jetstream._connection import Connection, NatsSubscription, translate_errors
from pyoco_server.ports import LogSlice, StoredLogRecord

log = logging.getLogger(__name__)

READ_MAX_BYTES = 4 * 1024 * 1024
"""The most one read asks the server to send (it sends at least one record)."""

_STATUS = "Status"
_NO_MESSAGES = "404"
_END_OF_BATCH = "204"


class NatsRunLogs:
    """Runs' log records in the logs stream."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._subjects = Subjects.from_settings(connection.settings)
        self._stream = self._subjects.logs_stream
        self._timeout = connection.settings.nats_request_timeout_sec

    async def publish(self, records: Sequence[LogRecord]) -> None:
        """Store `records` in order; returns once JetStream acknowledged every one."""
        if not records:
            return
        js = self._connection.js
        with translate_errors("storing log records"):
            acks = [
                await js.publish_async(
                    self._subjects.run_logs(record.run_id),
                    LOG_RECORD.encode(record),
                    wait_stall=self._timeout,
                )
                for record in records
            ]
            await asyncio.wait_for(asyncio.gather(*acks), self._timeout)

    async def read(self, run_id: str, after: int, limit: int) -> LogSlice:
        """Up to `limit` records of `run_id` after sequence `after`, in one batched request."""
        nc = self._connection.nc
        request = {
            "seq": after + 1,
            "next_by_subj": self._subjects.run_logs(run_id),
            "batch": limit,
            "max_bytes": READ_MAX_BYTES,
        }
        inbox = nc.new_inbox()
        with translate_errors("reading the run's logs"):
            subscription = await nc.subscribe(inbox)
            try:
                await nc.publish(f"$JS.API.DIRECT.GET.{self._stream}", dumps(request), inbox)
                return await self._collect(subscription, after)
            finally:
                await NatsSubscription(subscription).close()

    async def _collect(self, subscription: Subscription, after: int) -> LogSlice:
        """The answers of one batched read, up to its end-of-batch status."""
        deadline = time.monotonic() + self._timeout
        items: list[StoredLogRecord] = []
        last = after
        while True:
            msg = await subscription.next_msg(max(0.001, deadline - time.monotonic()))
            headers = msg.headers or {}
            status = headers.get(_STATUS)
            if status == _NO_MESSAGES:
                return LogSlice(tuple(items), last, 0)
            if status == _END_OF_BATCH:
                return LogSlice(tuple(items), last, int(headers.get("Nats-Num-Pending", 0)))
            if status is not None:
                raise BackendUnavailable(
                    f"NATS did not read the run's logs: {status} {headers.get('Description', '')}"
                    f" (does the stream {self._stream} exist? `pyoco-server-admin setup` makes it)"
                )
            last = int(headers["Nats-Sequence"])
            stored = _decoded(last, msg)
            if stored is not None:
                items.append(stored)

    async def last(self, run_id: str) -> StoredLogRecord | None:
        """The latest record of `run_id` (one direct get), or None."""
        js = self._connection.js
        with translate_errors("reading the run's last log record"):
            try:
                msg = await js.get_last_msg(
                    self._stream, self._subjects.run_logs(run_id), direct=True
                )
            except nats.js.errors.NotFoundError:
                return None
        try:
            return StoredLogRecord(int(msg.seq or 0), LOG_RECORD.decode(bytes(msg.data or b"")))
        except DecodeError as exc:
            log.warning("log record %s of run %s does not decode: %s", msg.seq, run_id, exc)
            return None

    async def signal(self, run_id: str) -> PublishedSignal:
        """Count the records published to `run_id`'s subject from now on."""
        signal = PublishedSignal()
        with translate_errors("following the run's logs"):
            subscription = await self._connection.nc.subscribe(
                self._subjects.run_logs(run_id), cb=signal.on_message
            )
        signal.subscription = NatsSubscription(subscription)
        return signal


class PublishedSignal:
    """A `LogSignal` fed by a core subscription (the messages themselves are not kept)."""

    def __init__(self) -> None:
        self.published = 0
        self.subscription: NatsSubscription | None = None
        self._event = asyncio.Event()

    async def on_message(self, _msg: Msg) -> None:
        """Count one published record."""
        self.published += 1
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        """Wait until a record is published after the last wait; False after `timeout`."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True

    async def close(self) -> None:
        """Unsubscribe."""
        if self.subscription is not None:
            await self.subscription.close()
            self.subscription = None


def _decoded(seq: int, msg: Msg) -> StoredLogRecord | None:
    """The record at `seq`; None (logged) for a message that is not a log record."""
    try:
        return StoredLogRecord(seq, LOG_RECORD.decode(bytes(msg.data)))
    except DecodeError as exc:
        subject = (msg.headers or {}).get("Nats-Subject", "?")
        log.warning("log record %d on %s does not decode: %s", seq, subject, exc)
        return None
