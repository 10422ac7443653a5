"""BucketMirror on a real nats-server that restarts: the mirror resumes as soon as the connection
is back, from the revision after the last one it applied, instead of waiting for nats-py to miss
two heartbeats of the consumer the restart lost (10 to 20 s of a stale run index and key cache)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from nats.js.kv import KeyValue

from pyoco_server.domain.settings import Settings
from pyoco_server.jetstream import NatsBackend
from pyoco_server.jetstream._mirror import BucketMirror
from pyoco_server.local.natsserver import NatsServer
from pyoco_server.ports import Bucket
from tests.support.pool import eventually

RESUMED_WITHIN_SEC = 5.0
"""Well under nats-py's own detection (two missed 5 s heartbeats)."""


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


class Mirrored:
    """A backend on `server`, a mirror of its workers bucket (not started) and what it saw."""

    def __init__(self, server: NatsServer) -> None:
        self.server = server
        self.settings = Settings.from_env({"PYOCO_NATS_URL": server.url, "PYOCO_LOAD_DOTENV": "0"})
        self.backend = NatsBackend(self.settings, "test-mirror")
        self.seen = Seen()
        self.mirror: BucketMirror = self.backend.follow(
            Bucket.WORKERS, self.seen.put, self.seen.delete
        )

    async def bucket(self) -> KeyValue:
        return await self.backend.connection.js.key_value(self.settings.workers_kv_bucket)

    async def restart(self, between: Callable[[], Awaitable[None]] | None = None) -> None:
        """Stop and start NATS (on the loop's own thread: the server must not be a thread's
        child); wait until the connection is ready again."""
        generation = self.backend.connection.generation
        self.server.stop()
        if between is not None:
            await between()
        self.server.start()
        await asyncio.wait_for(self.backend.connection.wait_generation_after(generation), 20)


@contextlib.asynccontextmanager
async def mirrored(server: NatsServer) -> AsyncIterator[Mirrored]:
    world = Mirrored(server)
    await world.backend.start()
    try:
        assert await world.backend.wait_ready(10)
        yield world
    finally:
        await world.mirror.stop()
        await world.backend.close()


def test_a_mirror_resumes_right_after_nats_restarts_and_misses_nothing(
    restartable_nats_server: NatsServer,
) -> None:
    async def body() -> None:
        async with mirrored(restartable_nats_server) as world:
            kv = await world.bucket()
            await kv.put("kept", b"1")
            await kv.put("deleted", b"2")
            world.mirror.start()
            assert await world.mirror.wait_loaded(10)
            await world.restart()
            kv = await world.bucket()
            await kv.put("after", b"3")
            await kv.delete("deleted")
            await kv.put("kept", b"4")
            await eventually(
                lambda: world.seen.values == {"kept": b"4", "after": b"3"},
                RESUMED_WITHIN_SEC,
                "the mirror to see the changes made after the restart",
            )
            revisions = world.seen.revisions
            assert revisions == sorted(set(revisions))  # none twice, in order

    asyncio.run(body())


def test_a_mirror_started_while_nats_is_away_loads_once_it_is_back(
    restartable_nats_server: NatsServer,
) -> None:
    async def body() -> None:
        async with mirrored(restartable_nats_server) as world:
            await (await world.bucket()).put("there", b"1")

            async def start_mirror_meanwhile() -> None:
                world.mirror.start()
                assert not await world.mirror.wait_loaded(0.5)

            await world.restart(between=start_mirror_meanwhile)
            assert await world.mirror.wait_loaded(RESUMED_WITHIN_SEC)
            assert world.seen.values == {"there": b"1"}

    asyncio.run(body())
