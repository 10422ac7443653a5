"""API keys as the gateway and the admin CLI use them.

`ApiKeyCache` is what the gateway checks keys against: a dict fed by the backend's feed of the
`pyoco_auth` bucket, so a request costs no NATS round trip and a revocation, being a KV write,
reaches every gateway as soon as the feed delivers it. `ApiKeyService` issues, lists and revokes
keys (`pyoco-server-admin`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

from pyoco_server.domain import keys
from pyoco_server.domain.cas import compare_and_set
from pyoco_server.domain.codec import API_KEY
from pyoco_server.domain.errors import DecodeError
from pyoco_server.domain.records import ApiKey, Role
from pyoco_server.domain.subjects import API_KEY_PREFIX
from pyoco_server.ports import ApiKeyStore, Backend, Bucket

log = logging.getLogger(__name__)


class ApiKeyCache:
    """Every API key record, in memory, kept current by a feed of the `pyoco_auth` bucket.

    Satisfies `pyoco_server.ports.ApiKeyLookup`. Until the bucket's contents have arrived,
    `loaded` is False and the gateway answers requests that need a key with 503.
    """

    def __init__(self, backend: Backend) -> None:
        self._keys: dict[str, ApiKey] = {}
        self._feed = backend.follow(Bucket.API_KEYS, self._on_put, self._on_delete)

    @property
    def loaded(self) -> bool:
        """True once the records stored at start-up are in memory."""
        return self._feed.loaded

    async def wait_loaded(self, timeout: float | None = None) -> bool:
        """Wait for the records stored at start-up; False on timeout."""
        return await self._feed.wait_loaded(timeout)

    def get(self, key_id: str) -> ApiKey | None:
        """The record of `key_id` as last seen, or None."""
        return self._keys.get(key_id)

    def start(self) -> None:
        """Start following the bucket (in the background, once NATS is up)."""
        self._feed.start()

    async def stop(self) -> None:
        """Stop following the bucket."""
        await self._feed.stop()

    def _on_put(self, key: str, value: bytes, _revision: int) -> None:
        if not key.startswith(API_KEY_PREFIX):
            return
        key_id = key.removeprefix(API_KEY_PREFIX)
        try:
            self._keys[key_id] = API_KEY.decode(value)
        except DecodeError as exc:
            # A corrupt record must not leave the key's previous (perhaps unrevoked) one in use.
            self._keys.pop(key_id, None)
            log.warning("API key %s refused: its record does not decode: %s", key_id, exc)

    def _on_delete(self, key: str, _revision: int) -> None:
        self._keys.pop(key.removeprefix(API_KEY_PREFIX), None)


class ApiKeyService:
    """Issues, lists and revokes API keys."""

    def __init__(
        self, store: ApiKeyStore, pepper: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._pepper = pepper
        self._clock = clock

    async def create(
        self,
        tenant_id: str,
        role: Role,
        description: str | None = None,
        task_modules: tuple[str, ...] | None = None,
        submit_limit: keys.SubmitLimit | None = None,
    ) -> tuple[str, ApiKey]:
        """A new key: its plaintext (shown once) and its stored record.

        Raises:
            ValueError: `tenant_id` is not a valid tenant id.
        """
        plaintext, record = keys.issue(
            tenant_id, role, self._pepper, self._clock(), description, task_modules, submit_limit
        )
        await self._store.create(record)
        return plaintext, record

    async def list(self, tenant_id: str | None = None) -> list[ApiKey]:
        """The stored keys (of `tenant_id`, if given), newest first."""
        records = await self._store.all()
        kept = [record for record in records if tenant_id in (None, record.tenant_id)]
        return sorted(kept, key=lambda record: (record.created_at, record.key_id), reverse=True)

    async def revoke(self, key_id: str) -> ApiKey | None:
        """Mark the key revoked now; None when there is no such key.

        Idempotent: a key revoked before keeps its first `revoked_at`. A compare-and-set, so a
        concurrent change is read again rather than overwritten.
        """

        async def attempt() -> ApiKey | None:
            stored = await self._store.get(key_id)
            if stored is None or stored.record.revoked:
                return None if stored is None else stored.record
            revoked = dataclasses.replace(stored.record, revoked_at=self._clock())
            await self._store.update(revoked, stored.revision)
            return revoked

        return await compare_and_set(attempt, what=f"API key {key_id}")
