"""The in-memory backend (`pyoco_server.memory`) as unit tests start from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pyoco_server.domain.records import WorkerRecord
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot
from pyoco_server.memory import MemoryBackend, MemoryRunStore
from tests.support.fakes import Spy

if TYPE_CHECKING:
    from pyoco_server.memory._kv import MemoryWorkerRegistry


def backend_with(*snapshots: RunSnapshot, settings: Settings | None = None) -> MemoryBackend:
    """A memory backend whose run store holds `snapshots` (written as another process would:
    they are not in `runs.writes` nor in `events`)."""
    backend = MemoryBackend(settings)
    for snapshot in snapshots:
        backend.runs.put(snapshot)
    return backend


def registry_with(*records: WorkerRecord) -> MemoryWorkerRegistry:
    """A memory backend's worker registry holding `records` (written as their workers would)."""
    registry = MemoryBackend().workers
    for record in records:
        registry.write(record)
    return registry


def racing_writes(
    store: MemoryRunStore, change: Callable[[RunSnapshot], RunSnapshot], times: int = 1
) -> Spy:
    """`store` as a service sees it when another process lands `change(current snapshot)` just
    before each of the service's next `times` updates (each of which then loses its
    compare-and-set)."""
    spy = Spy(store)
    left = [times]

    def land_a_write(snapshot: RunSnapshot, revision: int) -> None:
        if left[0] > 0:
            left[0] -= 1
            current = store.current(snapshot.run_id)
            assert current is not None
            store.put(change(current))

    spy.before["update"] = land_a_write
    return spy
