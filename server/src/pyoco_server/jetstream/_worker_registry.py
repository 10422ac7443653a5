"""`WorkerRegistry` on the `pyoco_workers` key-value bucket."""

from __future__ import annotations

import asyncio
import logging

import nats.js.errors
from nats.js.kv import KeyValue

from pyoco_server.domain.codec import WORKER_RECORD
from pyoco_server.domain.errors import DecodeError, RevisionConflict
from pyoco_server.domain.records import WorkerRecord
from pyoco_server.jetstream._connection import Connection, translate_errors
from pyoco_server.ports import StoredWorker

log = logging.getLogger(__name__)


class NatsWorkerRegistry:
    """Worker records in JetStream KV; every write is a compare-and-set on the revision.

    `all()` reads the bucket on every call (its keys in one request, then the records
    concurrently) rather than keeping a watch-fed view in memory. A view would answer without
    a round trip, but it would need a lifecycle of its own in every gateway process (start,
    restart after a reconnect or a lost store) and could not see records that expire: the
    bucket's max age removes them without a marker a watcher receives. Reading costs one
    request plus one per worker, and always sees what is stored now, the caller's own writes
    included. An empty bucket is an empty list, not an error.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._bucket = connection.settings.workers_kv_bucket
        self._timeout = connection.settings.nats_request_timeout_sec

    async def _store(self) -> KeyValue:
        return await self._connection.key_value(self._bucket)

    async def get(self, worker_id: str) -> StoredWorker | None:
        """The worker's record, or None when there is none (or it was deleted or expired)."""
        kv = await self._store()
        with translate_errors("reading the worker record"):
            try:
                entry = await kv.get(worker_id)
            except nats.js.errors.KeyNotFoundError:
                return None
        if entry.value is None:
            return None
        return StoredWorker(WORKER_RECORD.decode(entry.value), int(entry.revision or 0))

    async def put(self, record: WorkerRecord, revision: int | None) -> int:
        """Write the record if it is still at `revision` (None: only if absent).

        Returns the new revision; raises `RevisionConflict` when the record changed.
        """
        kv = await self._store()
        data = WORKER_RECORD.encode(record)
        with translate_errors("writing the worker record"):
            try:
                if revision is None:
                    return int(await kv.create(record.worker_id, data))
                return int(await kv.update(record.worker_id, data, last=revision))
            except nats.js.errors.KeyWrongLastSequenceError:
                raise RevisionConflict(record.worker_id) from None

    async def all(self) -> list[WorkerRecord]:
        """Every kept record, in no particular order.

        The keys come in one request (`Connection.keys`), then the records are read
        concurrently. A record that does not decode is logged and left out: its worker
        rewrites it at its next heartbeat.
        """
        keys = await self._connection.keys(self._bucket, "", "listing the workers")
        found = await asyncio.gather(*(self._read(key) for key in keys))
        return [record for record in found if record is not None]

    async def _read(self, worker_id: str) -> WorkerRecord | None:
        try:
            stored = await self.get(worker_id)
        except DecodeError as exc:
            log.warning("skipping a worker record that does not decode: %s", exc)
            return None
        return stored.record if stored is not None else None


def _decoded(raw: bytes) -> WorkerRecord | None:
    try:
        return WORKER_RECORD.decode(raw)
    except DecodeError as exc:
        log.warning("skipping a worker record that does not decode: %s", exc)
        return None
