"""The run store's compare-and-set writes on a real nats-server (jetstream/_run_store.py).

They publish with the expected last revision themselves (`Connection.publish_acked`) instead of
through nats-py's `KeyValue`; these checks pin what the ports promise: a create refuses an id in
use but stores one again after its deletion, an update refuses a stale revision.
"""

from __future__ import annotations

import pytest

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
