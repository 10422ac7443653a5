"""The run index cache on a real nats-server: a restarted gateway resumes from the revision it
saved (reading only what changed meanwhile), a recreated bucket or a damaged file is rebuilt,
and two processes on one cache directory each keep a file of their own."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import orjson
from nats.js.kv import KeyValue

from pyoco_server.domain.codec import encode_snapshot
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus
from pyoco_server.gateway.runview import RunView
from pyoco_server.jetstream import NatsBackend
from pyoco_server.local.natsserver import NatsServer
from pyoco_server.ports import BucketOrigin
from pyoco_server.services import indexdb
from pyoco_server.services.index import Filters, RunIndex, Summary
from tests.support.pool import eventually

LOADED_WITHIN_SEC = 10.0


def snapshot(run_id: str, status: RunStatus = RunStatus.PENDING, at: float = 1000.0) -> bytes:
    return encode_snapshot(
        RunSnapshot(
            run_id=run_id,
            flow_name="main",
            tag="default",
            tags=("default",),
            status=status,
            params={},
            submitted_at=at,
            updated_at=at,
        )
    )


class Gateway:
    """A run view on `server` with its index cache in `cache` (what a gateway process holds)."""

    def __init__(self, server: NatsServer, cache: Path, **env: str) -> None:
        self.settings = Settings.from_env(
            {"PYOCO_NATS_URL": server.url, "PYOCO_INDEX_DIR": str(cache), **env}
        )
        self.backend = NatsBackend(self.settings, "test-index-cache")
        self.view = RunView(self.backend)
        self.told: list[str] = []
        """The runs whose change the view applied (what it read of the bucket)."""
        self.view.listen(self._told)

    def _told(self, before: Summary | None, after: Summary | None, _revision: int) -> None:
        run = after or before
        assert run is not None
        self.told.append(run.run_id)

    def listed(self) -> list[str]:
        return [summary.run_id for summary in self.view.page(Filters(), 100, None).items]

    async def bucket(self) -> KeyValue:
        return await self.backend.connection.js.key_value(self.settings.runs_kv_bucket)


@contextlib.asynccontextmanager
async def gateway(server: NatsServer, cache: Path, **env: str) -> AsyncIterator[Gateway]:
    world = Gateway(server, cache, **env)
    await world.backend.start()
    try:
        assert await world.backend.wait_ready(10)
        world.view.start()
        assert await world.view.wait_loaded(LOADED_WITHIN_SEC)
        yield world
    finally:
        await world.view.stop()
        await world.backend.close()


async def put_runs(kv: KeyValue, run_ids: list[str]) -> None:
    for i, run_id in enumerate(run_ids):
        await kv.put(run_id, snapshot(run_id, at=1000.0 + i))


def test_a_restart_resumes_from_the_saved_revision(nats_server: NatsServer, tmp_path: Path) -> None:
    async def body() -> None:
        async with gateway(nats_server, tmp_path) as first:
            kv = await first.bucket()
            await put_runs(kv, ["r1", "r2", "r3", "r4", "r5"])
            await eventually(lambda: len(first.listed()) == 5, LOADED_WITHIN_SEC)
        async with gateway(nats_server, tmp_path) as unchanged:
            assert unchanged.told == []  # nothing changed: nothing read
            held = unchanged.view.index.applied
        # While the gateway is down: a run ends, one is deleted, one is submitted.
        async with gateway(nats_server, tmp_path / "other") as writer:
            kv = await writer.bucket()
            await kv.put("r1", snapshot("r1", RunStatus.COMPLETED, at=1000.0))
            await kv.delete("r2")
            await kv.put("r6", snapshot("r6", at=2000.0))
        async with gateway(nats_server, tmp_path) as second:
            assert sorted(second.told) == ["r1", "r2", "r6"]  # r3, r4, r5 were not read again
            assert second.listed() == ["r6", "r5", "r4", "r3", "r1"]
            assert second.view.index.get("r1").status == "COMPLETED"  # type: ignore[union-attr]
            assert second.view.index.applied == held + 3
            assert second.view.feed.counts(None) == {"PENDING": 4, "COMPLETED": 1}

    asyncio.run(body())


def test_runs_whose_last_write_the_bucket_no_longer_holds_are_pruned(tmp_path: Path) -> None:
    """KV expiry (max age) leaves no trace once its marker expired too: a run whose revision is
    below the bucket's first one is gone (a real expiry needs a bucket age above the 2 min
    duplicate window: too slow for a test)."""
    path = str(tmp_path / "runs.sqlite3")
    index = RunIndex(path=path)
    assert index.resume(BucketOrigin("stream@1", 1, 0)) == 0
    for revision, run_id in enumerate(["expired", "kept"], start=1):
        index.put(Summary.from_snapshot(orjson.loads(snapshot(run_id))), revision)
    index.close()
    reopened = RunIndex(path=path)
    assert reopened.resume(BucketOrigin("stream@1", 2, 2)) == 2
    assert [summary.run_id for summary in reopened.page(Filters(), 10).items] == ["kept"]
    assert reopened.counts_by_status() == {"PENDING": 1}
    assert RunIndex(path=path + "-other").resume(BucketOrigin("stream@2", 1, 2)) == 0


def test_a_recreated_bucket_rebuilds_the_cache(nats_server: NatsServer, tmp_path: Path) -> None:
    async def body() -> None:
        async with gateway(nats_server, tmp_path) as first:
            await put_runs(await first.bucket(), ["gone-1", "gone-2"])
            await eventually(lambda: len(first.listed()) == 2, LOADED_WITHIN_SEC)
            js = first.backend.connection.js
            await js.delete_key_value(first.settings.runs_kv_bucket)
        async with gateway(nats_server, tmp_path) as second:  # creates the bucket again
            fresh = [str(uuid.uuid4()) for _ in range(4)]  # more revisions than before
            await put_runs(await second.bucket(), fresh)
        async with gateway(nats_server, tmp_path) as third:
            assert sorted(third.listed()) == sorted(fresh)

    asyncio.run(body())


def test_two_processes_on_one_cache_directory_each_list_everything(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    async def body() -> None:
        async with gateway(nats_server, tmp_path) as first, gateway(nats_server, tmp_path) as other:
            assert first.view.index is not other.view.index
            await put_runs(await first.bucket(), ["a", "b", "c"])
            for world in (first, other):
                await eventually(lambda w=world: w.listed() == ["c", "b", "a"], 10)

    asyncio.run(body())
    files = sorted(path.name for path in tmp_path.rglob("*.sqlite3"))
    assert files == ["runs-0.sqlite3", "runs-1.sqlite3"]


def restarted_after(server: NatsServer, cache: Path, spoil: Callable[[Path], None]) -> None:
    """Fill a cache with two runs, `spoil` its directory, and check that a restart lists them."""

    async def fill() -> None:
        async with gateway(server, cache) as first:
            await put_runs(await first.bucket(), ["x", "y"])
            await eventually(lambda: len(first.listed()) == 2, LOADED_WITHIN_SEC)

    async def restart() -> None:
        async with gateway(server, cache) as second:
            assert second.listed() == ["y", "x"]

    asyncio.run(fill())
    spoil(cache)
    asyncio.run(restart())


def test_a_damaged_cache_file_is_rebuilt(nats_server: NatsServer, tmp_path: Path) -> None:
    def damage(cache: Path) -> None:
        for path in cache.rglob("runs-0.sqlite3*"):
            path.write_bytes(b"not a database" * 100)

    restarted_after(nats_server, tmp_path, damage)


def test_a_cache_of_another_schema_is_rebuilt(nats_server: NatsServer, tmp_path: Path) -> None:
    """A cache written by a version with another schema (1: ascending keys, a trigger writing
    new runs' labels) is started over, not used with the wrong layout."""

    def downgrade(cache: Path) -> None:
        (path,) = cache.rglob("runs-0.sqlite3")
        with contextlib.closing(sqlite3.connect(path)) as old:
            old.execute("UPDATE meta SET value = '1' WHERE name = 'schema'")
            old.execute("CREATE TRIGGER runs_labels_in AFTER INSERT ON runs BEGIN SELECT 1; END")
            old.commit()

    restarted_after(nats_server, tmp_path, downgrade)
    (path,) = tmp_path.rglob("runs-0.sqlite3")
    with contextlib.closing(sqlite3.connect(path)) as new:
        assert new.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone() == (
            indexdb.SCHEMA_VERSION,
        )
        triggers = {name for (name,) in new.execute("SELECT name FROM sqlite_master")}
        assert "runs_labels_in" not in triggers
