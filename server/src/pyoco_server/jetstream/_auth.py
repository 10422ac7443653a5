"""API key records in the `pyoco_auth` bucket, and the gateway's in-memory copy of them.

Records live at key `api_keys.<key_id>`. `NatsApiKeys` is what `pyoco-server-admin` uses to
create, list and revoke them; `ApiKeyCache` is what the gateway checks keys against: a dict fed
by a watch on the bucket (`BucketMirror`), so a request costs no NATS round trip and a
revocation, being a KV write, reaches every gateway as soon as the watch delivers it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import nats.js.errors
from nats.js.kv import KeyValue

from pyoco_server.auth import ApiKey
from pyoco_server.codec import decode_api_key, encode_api_key
from pyoco_server.errors import DecodeError, RevisionConflict
from pyoco_server.jetstream._connection import Connection, translate_errors
from pyoco_server.jetstream._mirror import BucketMirror

log = logging.getLogger(__name__)

KEY_PREFIX = "api_keys."
_REVOKE_ATTEMPTS = 10


class NatsApiKeys:
    """API key records in JetStream KV; revocation is a compare-and-set."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._bucket = connection.settings.auth_kv_bucket

    async def _store(self) -> KeyValue:
        return await self._connection.key_value(self._bucket)

    async def create(self, record: ApiKey) -> int:
        """Store a new key's record; returns its revision.

        Raises:
            RevisionConflict: a record with this key id exists already.
        """
        kv = await self._store()
        data = encode_api_key(record)
        with translate_errors("storing the API key"):
            try:
                return int(await kv.create(KEY_PREFIX + record.key_id, data))
            except nats.js.errors.KeyWrongLastSequenceError:
                raise RevisionConflict(KEY_PREFIX + record.key_id) from None

    async def get(self, key_id: str) -> ApiKey | None:
        """The record of `key_id`, or None when there is none."""
        found = await self._entry(key_id)
        return found[0] if found else None

    async def _entry(self, key_id: str) -> tuple[ApiKey, int] | None:
        kv = await self._store()
        with translate_errors("reading the API key"):
            try:
                entry = await kv.get(KEY_PREFIX + key_id)
            except nats.js.errors.KeyNotFoundError:
                return None
        if entry.value is None:
            return None
        return decode_api_key(entry.value), int(entry.revision or 0)

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
            return await self.get(key_id)
        except DecodeError as exc:
            log.warning("skipping an API key record that does not decode: %s", exc)
            return None

    async def revoke(self, key_id: str, now: float) -> ApiKey | None:
        """Mark the key revoked at `now`; None when there is no such key.

        Idempotent: a key revoked before keeps its first `revoked_at`. A compare-and-set, so a
        concurrent change is read again rather than overwritten.

        Raises:
            RevisionConflict: the record kept changing under us.
        """
        kv = await self._store()
        for _ in range(_REVOKE_ATTEMPTS):
            found = await self._entry(key_id)
            if found is None:
                return None
            record, revision = found
            if record.revoked:
                return record
            revoked = dataclasses.replace(record, revoked_at=now)
            with translate_errors("revoking the API key"):
                try:
                    await kv.update(KEY_PREFIX + key_id, encode_api_key(revoked), last=revision)
                except nats.js.errors.KeyWrongLastSequenceError:
                    continue
            return revoked
        raise RevisionConflict(KEY_PREFIX + key_id)


class ApiKeyCache:
    """Every API key record, in memory, kept current by a watch on the `pyoco_auth` bucket.

    Satisfies `pyoco_server.auth.ApiKeyLookup`. Until the bucket's contents have arrived,
    `loaded` is False and the gateway answers requests that need a key with 503.
    """

    def __init__(self, connection: Connection) -> None:
        self._keys: dict[str, ApiKey] = {}
        self._mirror = BucketMirror(
            connection, connection.settings.auth_kv_bucket, self._on_put, self._on_delete
        )

    @property
    def loaded(self) -> bool:
        """True once the records stored at start-up are in memory."""
        return self._mirror.loaded

    async def wait_loaded(self, timeout: float | None = None) -> bool:
        """Wait for the records stored at start-up; False on timeout."""
        return await self._mirror.wait_loaded(timeout)

    def get(self, key_id: str) -> ApiKey | None:
        """The record of `key_id` as last seen, or None."""
        return self._keys.get(key_id)

    def start(self) -> None:
        """Start following the bucket (in the background, once NATS is up)."""
        self._mirror.start()

    async def stop(self) -> None:
        """Stop following the bucket."""
        await self._mirror.stop()

    def _on_put(self, key: str, value: bytes, _revision: int) -> None:
        if not key.startswith(KEY_PREFIX):
            return
        key_id = key.removeprefix(KEY_PREFIX)
        try:
            self._keys[key_id] = decode_api_key(value)
        except DecodeError as exc:
            # A corrupt record must not leave the key's previous (perhaps unrevoked) one in use.
            self._keys.pop(key_id, None)
            log.warning("API key %s refused: its record does not decode: %s", key_id, exc)

    def _on_delete(self, key: str, _revision: int) -> None:
        self._keys.pop(key.removeprefix(KEY_PREFIX), None)
