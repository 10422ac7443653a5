"""`ApiKeyStore` on the `pyoco_auth` bucket (records at key `api_keys.<key_id>`)."""

from __future__ import annotations

import asyncio
import logging

import nats.js.errors
from nats.js.kv import KeyValue

from pyoco_server.domain.codec import API_KEY
from pyoco_server.domain.errors import DecodeError, RevisionConflict
from pyoco_server.domain.records import ApiKey
from pyoco_server.domain.subjects import API_KEY_PREFIX as KEY_PREFIX
from pyoco_server.jetstream._connection import Connection, translate_errors
from pyoco_server.ports import StoredApiKey

log = logging.getLogger(__name__)


class NatsApiKeys:
    """API key records in JetStream KV; every change a compare-and-set."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._bucket = connection.settings.auth_kv_bucket

    async def _store(self) -> KeyValue:
        return await self._connection.key_value(self._bucket)

    async def create(self, record: ApiKey) -> int:
        """Store a new key's record; `RevisionConflict` when the key id exists already."""
        kv = await self._store()
        data = API_KEY.encode(record)
        with translate_errors("storing the API key"):
            try:
                return int(await kv.create(KEY_PREFIX + record.key_id, data))
            except nats.js.errors.KeyWrongLastSequenceError:
                raise RevisionConflict(KEY_PREFIX + record.key_id) from None

    async def get(self, key_id: str) -> StoredApiKey | None:
        """The record of `key_id` with its revision, or None when there is none."""
        kv = await self._store()
        with translate_errors("reading the API key"):
            try:
                entry = await kv.get(KEY_PREFIX + key_id)
            except nats.js.errors.KeyNotFoundError:
                return None
        if entry.value is None:
            return None
        return StoredApiKey(API_KEY.decode(entry.value), int(entry.revision or 0))

    async def update(self, record: ApiKey, revision: int) -> int:
        """Replace the record if it is still at `revision`; `RevisionConflict` otherwise."""
        kv = await self._store()
        data = API_KEY.encode(record)
        with translate_errors("updating the API key"):
            try:
                return int(await kv.update(KEY_PREFIX + record.key_id, data, last=revision))
            except nats.js.errors.KeyWrongLastSequenceError:
                raise RevisionConflict(KEY_PREFIX + record.key_id) from None

    async def all(self) -> list[ApiKey]:
        """Every stored record, in no particular order.

        As `NatsWorkerRegistry.all()`: the keys in one request (`Connection.keys`), then the
        records read concurrently. A record that does not decode is logged and left out.
        """
        key_ids = await self._connection.keys(self._bucket, KEY_PREFIX, "listing the API keys")
        found = await asyncio.gather(*(self._read(key_id) for key_id in key_ids))
        return [record for record in found if record is not None]

    async def _read(self, key_id: str) -> ApiKey | None:
        try:
            stored = await self.get(key_id)
        except DecodeError as exc:
            log.warning("skipping an API key record that does not decode: %s", exc)
            return None
        return stored.record if stored is not None else None
