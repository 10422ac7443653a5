"""`NatsApiKeys`, `ApiKeyService` and `ApiKeyCache` on a real nats-server."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

import pytest

from pyoco_server.domain import keys
from pyoco_server.domain.errors import RevisionConflict
from pyoco_server.domain.records import ApiKey, Role
from pyoco_server.domain.settings import Settings
from pyoco_server.jetstream import NatsBackend
from pyoco_server.ports import StoredApiKey
from pyoco_server.services.keys import ApiKeyCache, ApiKeyService
from tests.support.nats import on_backend

NOW = 1_700_000_000.0
Check = Callable[[], bool]


async def eventually(check: Check, timeout: float = 1.0) -> None:
    """Wait for `check` to hold (the cache follows a watch), failing after `timeout` seconds."""
    step = 0.005
    for _ in range(int(timeout / step)):
        if check():
            return
        await asyncio.sleep(step)
    pytest.fail(f"not true within {timeout}s: {check}")


def record_of(stored: StoredApiKey | None) -> ApiKey | None:
    return None if stored is None else stored.record


def test_create_get_all_and_revoke(settings: Settings) -> None:
    async def body(backend: NatsBackend) -> None:
        store = backend.api_keys
        now = [NOW + 10]
        service = ApiKeyService(store, "", clock=lambda: now[0])
        assert await store.all() == []
        _, first = keys.issue("acme", Role.USER, "", NOW)
        _, second = keys.issue("globex", Role.ADMIN, "", NOW + 1, "ops")
        await store.create(first)
        await store.create(second)
        assert record_of(await store.get(first.key_id)) == first
        assert await store.get("0123456789abcdef01234567") is None
        assert sorted(await store.all(), key=lambda r: r.created_at) == [first, second]
        assert await service.list() == [second, first]
        assert await service.list("acme") == [first]
        with pytest.raises(RevisionConflict):
            await store.create(first)
        revoked = await service.revoke(first.key_id)
        assert revoked == dataclasses.replace(first, revoked_at=NOW + 10)
        now[0] = NOW + 20
        assert await service.revoke(first.key_id) == revoked  # the first time stays
        assert record_of(await store.get(first.key_id)) == revoked
        assert await service.revoke("0123456789abcdef01234567") is None

    on_backend(settings, body)


def test_the_cache_follows_creates_revocations_and_deletes(settings: Settings) -> None:
    async def body(backend: NatsBackend) -> None:
        store = backend.api_keys
        _, existing = keys.issue("acme", Role.USER, "", NOW)
        await store.create(existing)
        cache = ApiKeyCache(backend)
        assert not cache.loaded
        cache.start()
        try:
            assert await cache.wait_loaded(5)
            assert cache.get(existing.key_id) == existing
            _, later = keys.issue("acme", Role.ADMIN, "", NOW)
            await store.create(later)
            await eventually(lambda: cache.get(later.key_id) == later)
            await ApiKeyService(store, "", clock=lambda: NOW + 1).revoke(later.key_id)
            await eventually(lambda: (cache.get(later.key_id) or later).revoked)
            kv = await backend.connection.key_value(settings.auth_kv_bucket)
            await kv.delete(f"api_keys.{existing.key_id}")
            await eventually(lambda: cache.get(existing.key_id) is None)
        finally:
            await cache.stop()

    on_backend(settings, body)


def test_a_corrupt_record_drops_the_key_from_the_cache(settings: Settings) -> None:
    async def body(backend: NatsBackend) -> None:
        _, record = keys.issue("acme", Role.USER, "", NOW)
        await backend.api_keys.create(record)
        cache = ApiKeyCache(backend)
        cache.start()
        try:
            assert await cache.wait_loaded(5)
            assert cache.get(record.key_id) == record
            kv = await backend.connection.key_value(settings.auth_kv_bucket)
            await kv.put(f"api_keys.{record.key_id}", b'{"not": "a key"}')
            await eventually(lambda: cache.get(record.key_id) is None)
            assert await backend.api_keys.all() == []  # left out of listings too
        finally:
            await cache.stop()

    on_backend(settings, body)


def test_an_empty_bucket_counts_as_loaded(settings: Settings) -> None:
    async def body(backend: NatsBackend) -> None:
        cache = ApiKeyCache(backend)
        cache.start()
        try:
            assert await cache.wait_loaded(5)
            assert cache.get("0123456789abcdef01234567") is None
        finally:
            await cache.stop()

    on_backend(settings, body)
