"""WorkerService: shown states, filters, order, and compare-and-set hiding, on a memory registry."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from pyoco_server.domain.errors import BackendUnavailable, InvalidInput, WorkerNotFound
from pyoco_server.domain.records import WorkerState
from pyoco_server.domain.settings import Settings
from pyoco_server.ports import WorkerRegistry
from pyoco_server.services.workers import Scope, WorkerService
from tests.support.memory import registry_with
from tests.support.samples import NOW
from tests.support.samples import worker_record as record

T = TypeVar("T")
TIMEOUT = 20.0


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def service(registry: WorkerRegistry, clock: Callable[[], float] = lambda: NOW) -> WorkerService:
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
    page = run(service(registry_with(*FLEET)).list(**kwargs))
    return [(item.worker_id, item.state) for item in page.items]


def test_active_scope_keeps_running_and_idle_visible_workers() -> None:
    assert listed() == [
        ("a-idle", WorkerState.IDLE),
        ("b-busy", WorkerState.RUNNING),
        ("edge", WorkerState.IDLE),
    ], "worker id order; exactly the timeout is not stale"


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
        ({"include_hidden": True}, ["a-idle", "b-busy", "edge", "hidden"]),
        ({"include_hidden": True, "state": WorkerState.IDLE}, ["a-idle", "edge", "hidden"]),
        ({"scope": Scope.ALL, "limit": 2}, ["a-idle", "b-busy"]),
        ({"scope": Scope.ALL, "limit": 2, "cursor": "b-busy"}, ["edge", "stale"]),
        ({"scope": Scope.ALL, "cursor": "stopped"}, []),
    ],
)
def test_filters_and_limit(kwargs: dict[str, Any], expected: list[str]) -> None:
    assert [worker_id for worker_id, _ in listed(**kwargs)] == expected


def test_empty_registry_lists_nothing() -> None:
    page = run(service(registry_with()).list(scope=Scope.ALL, include_hidden=True))
    assert page.items == ()
    assert page.next_cursor is None


def test_set_hidden_changes_only_hidden_and_updated_at() -> None:
    registry = registry_with(*FLEET)
    before = registry.current("a-idle")
    shown = run(service(registry).set_hidden("a-idle", True))
    after = registry.current("a-idle")
    assert after == dataclasses.replace(before, hidden=True, updated_at=NOW)
    assert shown == after
    run(service(registry).set_hidden("a-idle", False))
    assert registry.current("a-idle") == dataclasses.replace(before, updated_at=NOW)


def test_set_hidden_returns_the_shown_state() -> None:
    registry = registry_with(*FLEET)
    shown = run(service(registry).set_hidden("stale", True))
    assert shown.state is WorkerState.DISCONNECTED
    assert registry.current("stale").state is WorkerState.RUNNING, "the stored state is kept"


def test_set_hidden_keeps_a_heartbeat_that_lands_in_between() -> None:
    registry = registry_with(*FLEET)
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
    registry = registry_with(*FLEET)
    registry.before_put = lambda: registry.write(registry.current("a-idle"))
    with pytest.raises(BackendUnavailable, match="kept changing"):
        run(service(registry).set_hidden("a-idle", True))
    assert registry.puts == 16


def test_set_hidden_of_an_unknown_worker() -> None:
    with pytest.raises(WorkerNotFound) as raised:
        run(service(registry_with(*FLEET)).set_hidden("nobody", True))
    assert raised.value.worker_id == "nobody"


@pytest.mark.parametrize("worker_id", ["w1\n", ".w1", "w1.", "a b", "x" * 129])
def test_set_hidden_refuses_a_malformed_id(worker_id: str) -> None:
    registry = registry_with(*FLEET)
    with pytest.raises(InvalidInput):
        run(service(registry).set_hidden(worker_id, True))
    assert registry.puts == 0
