"""The wheel registry on JetStream: files in an object store, the index in KV, history in a stream.

Files are objects named by content (`sha256-<hex>`), streamed in 128 KiB chunks from and to local
files (nats-py's `get()` would otherwise buffer a whole wheel in memory). The index is one KV
record per distribution, written compare-and-set. The history is a limits stream read newest
first by sequence, like the dead-letter stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path

import nats.js.errors
from nats.js.api import ObjectMeta
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore

from pyoco_server.domain.codec import WHEEL_HISTORY, WHEEL_INDEX
from pyoco_server.domain.errors import DecodeError, RevisionConflict
from pyoco_server.domain.records import WheelHistoryEvent, WheelIndexRecord
from pyoco_server.domain.subjects import Subjects
from pyoco_server.jetstream._connection import Connection, translate_errors
from pyoco_server.ports import StoredWheelIndex

log = logging.getLogger(__name__)

_GONE = frozenset({10037, 10043, 10057})
_READ_BATCH = 32


class NatsWheelFiles:
    """`WheelFiles` on the `pyoco_wheels` object store."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._bucket = connection.settings.wheel_store_bucket
        self._store: ObjectStore | None = None

    async def _objects(self) -> ObjectStore:
        js = self._connection.js
        with translate_errors("opening the wheel store"):
            return await js.object_store(self._bucket)

    async def put(self, name: str, source: Path, headers: Mapping[str, str]) -> None:
        """Store the file at `source` as object `name`, chunk by chunk."""
        store = await self._objects()
        with translate_errors("storing the wheel"), source.open("rb") as data:
            await store.put(name, data, meta=ObjectMeta(name=name, headers=dict(headers)))

    async def fetch(self, name: str, target: Path) -> bool:
        """Write object `name` to `target` (its digest checked by nats-py); False when missing."""
        store = await self._objects()
        with translate_errors("reading the wheel"), target.open("wb") as sink:
            try:
                await store.get(name, writeinto=sink)
            except nats.js.errors.ObjectNotFoundError:
                return False
        return True

    async def delete(self, name: str) -> None:
        """Remove object `name`."""
        store = await self._objects()
        with translate_errors("deleting the wheel"):
            try:
                await store.delete(name)
            except nats.js.errors.ObjectNotFoundError:
                return


class NatsWheelIndex:
    """`WheelIndex` on the `pyoco_wheel_index` bucket."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._bucket = connection.settings.wheel_index_kv_bucket

    async def _kv(self) -> KeyValue:
        return await self._connection.key_value(self._bucket)

    async def get(self, distribution: str) -> StoredWheelIndex | None:
        """The record of `distribution`, or None."""
        kv = await self._kv()
        with translate_errors("reading the wheel index"):
            try:
                entry = await kv.get(distribution)
            except nats.js.errors.KeyNotFoundError:
                return None
        if entry.value is None:
            return None
        return StoredWheelIndex(WHEEL_INDEX.decode(entry.value), int(entry.revision or 0))

    async def put(self, record: WheelIndexRecord, revision: int | None) -> int:
        """Create (revision None) or compare-and-set the record."""
        kv = await self._kv()
        data = WHEEL_INDEX.encode(record)
        with translate_errors("writing the wheel index"):
            try:
                if revision is None:
                    return int(await kv.create(record.distribution, data))
                return int(await kv.update(record.distribution, data, last=revision))
            except nats.js.errors.KeyWrongLastSequenceError:
                raise RevisionConflict(record.distribution) from None

    async def all(self) -> list[WheelIndexRecord]:
        """Every record (one request for the keys, then the records concurrently)."""
        keys = await self._connection.keys(self._bucket, "", "listing the wheel index")
        found = await asyncio.gather(*(self._read(key) for key in keys))
        return [record for record in found if record is not None]

    async def _read(self, distribution: str) -> WheelIndexRecord | None:
        try:
            stored = await self.get(distribution)
        except DecodeError as exc:
            log.warning("skipping a wheel index record that does not decode: %s", exc)
            return None
        return stored.record if stored is not None else None


class NatsWheelHistory:
    """`WheelHistory` on the `PYOCO_WHEEL_HISTORY` stream."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._stream = connection.settings.wheel_history_stream
        self._subject = Subjects.from_settings(connection.settings).wheel_history

    async def publish(self, event: WheelHistoryEvent) -> None:
        """Append an event."""
        data = WHEEL_HISTORY.encode(event)
        with translate_errors("recording the wheel history"):
            await self._connection.js.publish(self._subject, data, stream=self._stream)

    async def recent(self, count: int) -> list[WheelHistoryEvent]:
        """The newest `count` events at most, newest first (read a batch of requests at a time)."""
        js = self._connection.js
        with translate_errors("reading the wheel history"):
            info = await js.stream_info(self._stream)
        state = info.state
        if not state.messages:
            return []
        first, last = max(1, state.first_seq), state.last_seq
        sequences = list(range(last, max(first, last - count + 1) - 1, -1))
        events: list[WheelHistoryEvent] = []
        for start in range(0, len(sequences), _READ_BATCH):
            batch = sequences[start : start + _READ_BATCH]
            found = await asyncio.gather(*(self._get(seq) for seq in batch))
            events.extend(event for event in found if event is not None)
        return events

    async def _get(self, seq: int) -> WheelHistoryEvent | None:
        with translate_errors("reading the wheel history"):
            try:
                msg = await self._connection.js.get_msg(self._stream, seq)
            except nats.js.errors.APIError as exc:
                if exc.err_code in _GONE:
                    return None
                raise
        try:
            return WHEEL_HISTORY.decode(bytes(msg.data or b""))
        except DecodeError as exc:
            log.warning("skipping a wheel history event that does not decode: %s", exc)
            return None
