"""Worker ids a worker claims when none is given: the host name, else `<host>-2`, `<host>-3`...

On the in-memory registry; `tests/e2e/test_worker_ids.py` starts two real workers on one host.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from pyoco_server.domain.records import WorkerRecord, WorkerState
from pyoco_server.ports import WorkerRegistry
from pyoco_worker.cli import host_worker_id
from pyoco_worker.presence import Presence
from tests.support.fakes import Clock, Spy
from tests.support.memory import registry_with
from tests.support.samples import NOW
from tests.support.samples import worker_record as record

T = TypeVar("T")
DISCONNECT_TIMEOUT = 20.0


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coroutine, 10.0))


def claimed(registry: WorkerRegistry, base: str = "host") -> str:
    """The id a worker starting now claims with `base`."""
    me = Presence(registry, worker_id=base, tags=["a"], concurrency=1, clock=Clock(NOW))
    run(me.start(DISCONNECT_TIMEOUT, claim=True))
    return me.record.worker_id


def test_the_first_worker_of_a_host_is_named_after_it() -> None:
    registry = registry_with()

    assert claimed(registry) == "host"
    assert registry.current("host").state is WorkerState.IDLE


def test_a_second_live_worker_gets_the_next_number() -> None:
    registry = registry_with(record("host"), record("host-2", WorkerState.RUNNING))

    assert claimed(registry) == "host-3"
    assert registry.current("host").instance_id == "host-1", "the live worker's record stays"


def test_a_restarted_worker_gets_its_id_back_with_its_hidden_flag() -> None:
    registry = registry_with(record("host", WorkerState.STOPPED_GRACEFUL, hidden=True))

    assert claimed(registry) == "host"
    assert registry.current("host").hidden is True
    assert registry.current("host").state is WorkerState.IDLE


def test_the_id_of_a_worker_not_heard_from_is_free() -> None:
    silent = record("host", last_seen_at=NOW - DISCONNECT_TIMEOUT - 1)
    registry = registry_with(silent)

    assert claimed(registry) == "host"


def test_two_workers_starting_at_once_get_distinct_ids() -> None:
    registry = registry_with()
    spy = Spy(registry)
    rival: list[WorkerRecord] = []

    def land_a_rival_first(worker: WorkerRecord, revision: int | None) -> None:
        if not rival:  # another worker's claim lands between our read and our write
            rival.append(record(worker.worker_id, instance_id="rival"))
            registry.write(rival[0])

    spy.before["put"] = land_a_rival_first

    assert claimed(spy) == "host-2"
    assert registry.current("host").instance_id == "rival"


def test_the_host_name_is_made_a_valid_worker_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("socket.gethostname", lambda: "my host (lab).example.")

    assert host_worker_id() == "my-host--lab-.example"
