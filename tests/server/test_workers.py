"""WorkerService: shown states, filters, order, and compare-and-set hiding, on a fake registry."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from pyoco_server.codec import decode_worker_record, encode_worker_record
from pyoco_server.errors import BackendUnavailable, InvalidInput, RevisionConflict, WorkerNotFound
from pyoco_server.ports import StoredWorker
from pyoco_server.registry import WorkerRecord, WorkerState
from pyoco_server.settings import Settings
from pyoco_server.workers import Scope, WorkerService

T = TypeVar("T")
NOW = 10_000.0
TIMEOUT = 20.0


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def record(worker_id: str, state: WorkerState = WorkerState.IDLE, **fields: Any) -> WorkerRecord:
    values: dict[str, Any] = {
        "instance_id": f"{worker_id}-1",
        "hidden": False,
        "tags": ("default",),
        "concurrency": 1,
        "current_run_ids": (),
        "started_at": NOW - 100,
        "last_seen_at": NOW - 1,
        "updated_at": NOW - 1,
        **fields,
    }
    return WorkerRecord(worker_id=worker_id, state=state, **values)


class FakeRegistry:
    """An in-memory `WorkerRegistry`; records pass through the codec as in the real bucket.

    `before_put`, when set, runs before each put: a test uses it to land a concurrent write.
    """

    def __init__(self, *records: WorkerRecord) -> None:
        self._records: dict[str, StoredWorker] = {}
        self.before_put: Callable[[], None] | None = None
        self.puts = 0
        for item in records:
            self.write(item)

    def write(self, item: WorkerRecord) -> None:
        """Write unconditionally, as the worker itself would."""
        previous = self._records.get(item.worker_id)
        revision = previous.revision + 1 if previous else 1
        self._records[item.worker_id] = StoredWorker(
            decode_worker_record(encode_worker_record(item)), revision
        )

    def current(self, worker_id: str) -> WorkerRecord:
        return self._records[worker_id].record

    async def get(self, worker_id: str) -> StoredWorker | None:
        return self._records.get(worker_id)

    async def put(self, item: WorkerRecord, revision: int | None) -> int:
        self.puts += 1
        if self.before_put is not None:
            self.before_put()
        stored = self._records.get(item.worker_id)
        if (stored.revision if stored else None) != revision:
            raise RevisionConflict(item.worker_id)
        self.write(item)
        return self._records[item.worker_id].revision

    async def all(self) -> list[WorkerRecord]:
        return [stored.record for stored in self._records.values()]


def service(registry: FakeRegistry, clock: Callable[[], float] = lambda: NOW) -> WorkerService:
    settings = Settings(worker_disconnect_timeout_sec=TIMEOUT)
    return WorkerService(registry, settings, clock=clock)


FLEET = (
    record("b-busy", WorkerState.RUNNING, last_seen_at=NOW - 2),
    record("a-idle", last_seen_at=NOW - 2),
    record("stopped", WorkerState.STOPPED_GRACEFUL, last_seen_at=NOW - 50),
    record("stale", WorkerState.RUNNING, last_seen_at=NOW - TIMEOUT - 0.5),
    record("edge", last_seen_at=NOW - TIMEOUT),
    record("hidden", last_seen_at=NOW - 1, hidden=True),
)


def listed(**kwargs: Any) -> list[tuple[str, WorkerState]]:
    records = run(service(FakeRegistry(*FLEET)).list(**kwargs))
    return [(item.worker_id, item.state) for item in records]


def test_active_scope_keeps_running_and_idle_visible_workers() -> None:
    assert listed() == [
        ("a-idle", WorkerState.IDLE),
        ("b-busy", WorkerState.RUNNING),
        ("edge", WorkerState.IDLE),
    ], "newest last_seen_at first, ties by worker id; exactly the timeout is not stale"


def test_all_scope_shows_the_derived_state() -> None:
    assert listed(scope=Scope.ALL) == [
        ("a-idle", WorkerState.IDLE),
        ("b-busy", WorkerState.RUNNING),
        ("edge", WorkerState.IDLE),
        ("stale", WorkerState.DISCONNECTED),
        ("stopped", WorkerState.STOPPED_GRACEFUL),
    ]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"state": WorkerState.DISCONNECTED}, []),
        ({"scope": Scope.ALL, "state": WorkerState.DISCONNECTED}, ["stale"]),
        ({"scope": Scope.ALL, "state": WorkerState.RUNNING}, ["b-busy"]),
        ({"include_hidden": True}, ["hidden", "a-idle", "b-busy", "edge"]),
        ({"include_hidden": True, "state": WorkerState.IDLE}, ["hidden", "a-idle", "edge"]),
        ({"scope": Scope.ALL, "limit": 2}, ["a-idle", "b-busy"]),
    ],
)
def test_filters_and_limit(kwargs: dict[str, Any], expected: list[str]) -> None:
    assert [worker_id for worker_id, _ in listed(**kwargs)] == expected


def test_empty_registry_lists_nothing() -> None:
    assert run(service(FakeRegistry()).list(scope=Scope.ALL, include_hidden=True)) == ()


def test_set_hidden_changes_only_hidden_and_updated_at() -> None:
    registry = FakeRegistry(*FLEET)
    before = registry.current("a-idle")
    shown = run(service(registry).set_hidden("a-idle", True))
    after = registry.current("a-idle")
    assert after == dataclasses.replace(before, hidden=True, updated_at=NOW)
    assert shown == after
    run(service(registry).set_hidden("a-idle", False))
    assert registry.current("a-idle") == dataclasses.replace(before, updated_at=NOW)


def test_set_hidden_returns_the_shown_state() -> None:
    registry = FakeRegistry(*FLEET)
    shown = run(service(registry).set_hidden("stale", True))
    assert shown.state is WorkerState.DISCONNECTED
    assert registry.current("stale").state is WorkerState.RUNNING, "the stored state is kept"


def test_set_hidden_keeps_a_heartbeat_that_lands_in_between() -> None:
    registry = FakeRegistry(*FLEET)
    heartbeat = dataclasses.replace(
        registry.current("b-busy"), last_seen_at=NOW, current_run_ids=("r9",)
    )

    def land_heartbeat_once() -> None:
        registry.before_put = None
        registry.write(heartbeat)

    registry.before_put = land_heartbeat_once
    run(service(registry).set_hidden("b-busy", True))
    assert registry.puts == 2, "the first write lost and was retried"
    assert registry.current("b-busy") == dataclasses.replace(heartbeat, hidden=True, updated_at=NOW)


def test_set_hidden_gives_up_when_the_record_keeps_changing() -> None:
    registry = FakeRegistry(*FLEET)
    registry.before_put = lambda: registry.write(registry.current("a-idle"))
    with pytest.raises(BackendUnavailable, match="kept changing"):
        run(service(registry).set_hidden("a-idle", True))
    assert registry.puts == 16


def test_set_hidden_of_an_unknown_worker() -> None:
    with pytest.raises(WorkerNotFound) as raised:
        run(service(FakeRegistry(*FLEET)).set_hidden("nobody", True))
    assert raised.value.worker_id == "nobody"


@pytest.mark.parametrize("worker_id", ["w1\n", ".w1", "w1.", "a b", "x" * 129])
def test_set_hidden_refuses_a_malformed_id(worker_id: str) -> None:
    registry = FakeRegistry(*FLEET)
    with pytest.raises(InvalidInput):
        run(service(registry).set_hidden(worker_id, True))
    assert registry.puts == 0
