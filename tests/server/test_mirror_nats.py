"""BucketMirror on a real nats-server that restarts: the mirror resumes as soon as the connection
is back, from the revision after the last one it applied, instead of waiting for nats-py to miss
two heartbeats of the consumer the restart lost (10 to 20 s of a stale run index and key cache)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyoco_server.domain.settings import Settings
from pyoco_server.jetstream import NatsBackend
from pyoco_server.local.natsserver import NatsServer
from pyoco_server.ports import Bucket
from tests.support.pool import eventually
from tests.support.processes import free_port

RESUMED_WITHIN_SEC = 5.0
"""Well under nats-py's own detection (two missed 5 s heartbeats)."""


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server on a fixed port, so that it comes back where the client looks for it."""
    server = NatsServer(tmp_path / "nats", port=free_port())
    server.start()
    yield server
    server.stop()


class Seen:
    """What the mirror called back with, and in which order."""

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}
        self.revisions: list[int] = []

    def put(self, key: str, value: bytes, revision: int) -> None:
        self.values[key] = value
        self.revisions.append(revision)

    def delete(self, key: str, revision: int) -> None:
        self.values.pop(key, None)
        self.revisions.append(revision)


def test_a_mirror_resumes_right_after_nats_restarts_and_misses_nothing(
    restartable: NatsServer,
) -> None:
    settings = Settings.from_env({"PYOCO_NATS_URL": restartable.url, "PYOCO_LOAD_DOTENV": "0"})
    bucket = settings.workers_kv_bucket

    async def body() -> None:
        backend = NatsBackend(settings, "test-mirror")
        await backend.start()
        seen = Seen()
        mirror = backend.follow(Bucket.WORKERS, seen.put, seen.delete)
        try:
            assert await backend.wait_ready(10)
            kv = await backend.connection.js.key_value(bucket)
            await kv.put("kept", b"1")
            await kv.put("deleted", b"2")
            mirror.start()
            assert await mirror.wait_loaded(10)
            generation = backend.connection.generation
            # Blocking on the loop's own thread: the server must not be a thread's child.
            restartable.stop()
            restartable.start()
            await asyncio.wait_for(backend.connection.wait_generation_after(generation), 20)
            kv = await backend.connection.js.key_value(bucket)
            await kv.put("after", b"3")
            await kv.delete("deleted")
            await kv.put("kept", b"4")
            await eventually(
                lambda: seen.values == {"kept": b"4", "after": b"3"},
                RESUMED_WITHIN_SEC,
                "the mirror to see the changes made after the restart",
            )
            assert seen.revisions == sorted(set(seen.revisions))  # none twice, in order
        finally:
            await mirror.stop()
            await backend.close()

    asyncio.run(body())


def test_a_mirror_started_while_nats_is_away_loads_once_it_is_back(
    restartable: NatsServer,
) -> None:
    settings = Settings.from_env({"PYOCO_NATS_URL": restartable.url, "PYOCO_LOAD_DOTENV": "0"})

    async def body() -> None:
        backend = NatsBackend(settings, "test-mirror")
        await backend.start()
        seen = Seen()
        mirror = backend.follow(Bucket.WORKERS, seen.put, seen.delete)
        try:
            assert await backend.wait_ready(10)
            kv = await backend.connection.js.key_value(settings.workers_kv_bucket)
            await kv.put("there", b"1")
            generation = backend.connection.generation
            restartable.stop()
            mirror.start()
            assert not await mirror.wait_loaded(0.5)
            restartable.start()
            await asyncio.wait_for(backend.connection.wait_generation_after(generation), 20)
            assert await mirror.wait_loaded(RESUMED_WITHIN_SEC)
            assert seen.values == {"there": b"1"}
        finally:
            await mirror.stop()
            await backend.close()

    asyncio.run(body())
