"""`NatsApiKeys` and `ApiKeyCache` on a real nats-server."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

import pytest

from pyoco_server import auth
from pyoco_server.errors import RevisionConflict
from pyoco_server.jetstream import ApiKeyCache, Connection, NatsApiKeys
from pyoco_server.settings import Settings
from pyoco_server.tenancy import Role

NOW = 1_700_000_000.0
Check = Callable[[], bool]


def with_store(settings: Settings, body: Callable[[Connection], Awaitable[None]]) -> None:
    async def run() -> None:
        connection = Connection(settings, "test-auth-store")
        await connection.start()
        try:
            assert await connection.wait_ready(10)
            await body(connection)
        finally:
            await connection.close()

    asyncio.run(run())


async def eventually(check: Check, timeout: float = 1.0) -> None:
    """Wait for `check` to hold (the cache follows a watch), failing after `timeout` seconds."""
    step = 0.005
    for _ in range(int(timeout / step)):
        if check():
            return
        await asyncio.sleep(step)
    pytest.fail(f"not true within {timeout}s: {check}")


def test_create_get_all_and_revoke(settings: Settings) -> None:
    async def body(connection: Connection) -> None:
        keys = NatsApiKeys(connection)
        assert await keys.all() == []
        _, first = auth.issue("acme", Role.USER, "", NOW)
        _, second = auth.issue("globex", Role.ADMIN, "", NOW + 1, "ops")
        await keys.create(first)
        await keys.create(second)
        assert await keys.get(first.key_id) == first
        assert await keys.get("0123456789abcdef01234567") is None
        assert sorted(await keys.all(), key=lambda r: r.created_at) == [first, second]
        with pytest.raises(RevisionConflict):
            await keys.create(first)
        revoked = await keys.revoke(first.key_id, NOW + 10)
        assert revoked == dataclasses.replace(first, revoked_at=NOW + 10)
        assert await keys.revoke(first.key_id, NOW + 20) == revoked  # the first time stays
        assert await keys.get(first.key_id) == revoked
        assert await keys.revoke("0123456789abcdef01234567", NOW) is None

    with_store(settings, body)


def test_the_cache_follows_creates_revocations_and_deletes(settings: Settings) -> None:
    async def body(connection: Connection) -> None:
        keys = NatsApiKeys(connection)
        _, existing = auth.issue("acme", Role.USER, "", NOW)
        await keys.create(existing)
        cache = ApiKeyCache(connection)
        assert not cache.loaded
        cache.start()
        try:
            assert await cache.wait_loaded(5)
            assert cache.get(existing.key_id) == existing
            _, later = auth.issue("acme", Role.ADMIN, "", NOW)
            await keys.create(later)
            await eventually(lambda: cache.get(later.key_id) == later)
            await keys.revoke(later.key_id, NOW + 1)
            await eventually(lambda: (cache.get(later.key_id) or later).revoked)
            kv = await connection.key_value(settings.auth_kv_bucket)
            await kv.delete(f"api_keys.{existing.key_id}")
            await eventually(lambda: cache.get(existing.key_id) is None)
        finally:
            await cache.stop()

    with_store(settings, body)


def test_a_corrupt_record_drops_the_key_from_the_cache(settings: Settings) -> None:
    async def body(connection: Connection) -> None:
        _, record = auth.issue("acme", Role.USER, "", NOW)
        await NatsApiKeys(connection).create(record)
        cache = ApiKeyCache(connection)
        cache.start()
        try:
            assert await cache.wait_loaded(5)
            assert cache.get(record.key_id) == record
            kv = await connection.key_value(settings.auth_kv_bucket)
            await kv.put(f"api_keys.{record.key_id}", b'{"not": "a key"}')
            await eventually(lambda: cache.get(record.key_id) is None)
            assert await NatsApiKeys(connection).all() == []  # left out of listings too
        finally:
            await cache.stop()

    with_store(settings, body)


def test_an_empty_bucket_counts_as_loaded(settings: Settings) -> None:
    async def body(connection: Connection) -> None:
        cache = ApiKeyCache(connection)
        cache.start()
        try:
            assert await cache.wait_loaded(5)
            assert cache.get("0123456789abcdef01234567") is None
        finally:
            await cache.stop()

    with_store(settings, body)
