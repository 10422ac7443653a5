"""Idempotency records in the `pyoco_idempotency` bucket (they expire after the window)."""

from __future__ import annotations

import nats.js.errors

from pyoco_server.domain.codec import IDEMPOTENCY_RECORD
from pyoco_server.domain.errors import RevisionConflict
from pyoco_server.domain.records import IdempotencyRecord
from pyoco_server.jetstream._connection import Connection, translate_errors


class NatsIdempotencyKeys:
    """Which run each Idempotency-Key created."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._bucket = connection.settings.idempotency_kv_bucket

    async def get(self, key_hash: str) -> IdempotencyRecord | None:
        """The record of a key, or None (never used, or expired)."""
        kv = await self._connection.key_value(self._bucket)
        with translate_errors("reading the idempotency key"):
            try:
                entry = await kv.get(key_hash)
            except nats.js.errors.KeyNotFoundError:
                return None
        return IDEMPOTENCY_RECORD.decode(entry.value) if entry.value else None

    async def create(self, key_hash: str, record: IdempotencyRecord) -> None:
        """Record a key's run; `RevisionConflict` when the key is already recorded."""
        kv = await self._connection.key_value(self._bucket)
        with translate_errors("recording the idempotency key"):
            try:
                data = IDEMPOTENCY_RECORD.encode(record)
                await self._connection.through_election(lambda: kv.create(key_hash, data))
            except nats.js.errors.KeyWrongLastSequenceError:
                raise RevisionConflict(key_hash) from None

    async def delete(self, key_hash: str) -> None:
        """Forget a key (its submit failed, so a retry must be able to use it)."""
        kv = await self._connection.key_value(self._bucket)
        with translate_errors("forgetting the idempotency key"):
            await self._connection.through_election(lambda: kv.purge(key_hash))
