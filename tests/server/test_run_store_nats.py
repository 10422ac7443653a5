"""The run store's compare-and-set writes on a real nats-server (jetstream/_run_store.py).

They publish with the expected last revision themselves (`Connection.publish_acked`) instead of
through nats-py's `KeyValue`; these checks pin what the ports promise: a create refuses an id in
use but stores one again after its deletion, an update refuses a stale revision; a history
that nats-py ends too soon is read again.
"""

from __future__ import annotations

import nats.js.errors
import pytest
from nats.js.kv import KeyValue

from pyoco_server.domain.errors import RevisionConflict
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot
from pyoco_server.jetstream import NatsBackend
from tests.support.nats import on_backend
from tests.support.samples import job

PENDING = RunSnapshot.pending(job("run-1"), job_seq=1)


def test_a_create_refuses_an_id_in_use(settings: Settings) -> None:
    async def body(backend: NatsBackend) -> None:
        first = await backend.runs.create(PENDING)
        with pytest.raises(RevisionConflict):
            await backend.runs.create(PENDING)
        stored = await backend.runs.get("run-1")
        assert stored is not None
        assert (stored.snapshot, stored.revision) == (PENDING, first)

    on_backend(settings, body)


def test_a_deleted_run_can_be_stored_again(settings: Settings) -> None:
    async def body(backend: NatsBackend) -> None:
        await backend.runs.create(PENDING)
        await backend.runs.delete("run-1")
        assert await backend.runs.get("run-1") is None
        revision = await backend.runs.create(PENDING)
        stored = await backend.runs.get("run-1")
        assert stored is not None
        assert stored.revision == revision

    on_backend(settings, body)


def test_an_update_refuses_a_stale_revision(settings: Settings) -> None:
    async def body(backend: NatsBackend) -> None:
        first = await backend.runs.create(PENDING)
        running = RunSnapshot.pending(job("run-1"), job_seq=2)
        second = await backend.runs.update(running, first)
        assert second > first
        with pytest.raises(RevisionConflict):
            await backend.runs.update(running, first)

    on_backend(settings, body)


def test_a_history_that_comes_back_short_is_read_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # nats-py's `KeyValue.history` can end before its first entry when the server delivers
    # everything before the client counts a message (a race under load): simulated here.
    real = KeyValue.history
    reads: list[str] = []

    async def short_once(self: KeyValue, key: str) -> list[KeyValue.Entry]:
        reads.append(key)
        if len(reads) == 1:
            raise nats.js.errors.NoKeysError
        return await real(self, key)

    async def body(backend: NatsBackend) -> None:
        first = await backend.runs.create(PENDING)
        second = await backend.runs.update(RunSnapshot.pending(job("run-1"), job_seq=2), first)
        monkeypatch.setattr(KeyValue, "history", short_once)
        revisions = [stored.revision for stored in await backend.runs.history("run-1")]
        assert revisions == [first, second]
        assert reads == ["run-1", "run-1"]

    on_backend(settings, body)


def test_a_history_read_again_at_most_three_times(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []

    async def always_short(self: KeyValue, key: str) -> list[KeyValue.Entry]:
        reads.append(key)
        raise nats.js.errors.NoKeysError

    async def body(backend: NatsBackend) -> None:
        await backend.runs.create(PENDING)
        monkeypatch.setattr(KeyValue, "history", always_short)
        assert await backend.runs.history("run-1") == []
        assert len(reads) == 3
        reads.clear()
        assert await backend.runs.history("no-such-run") == [], "no latest revision to reach"
        assert len(reads) == 1

    on_backend(settings, body)
