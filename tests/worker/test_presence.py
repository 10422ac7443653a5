"""Presence: the worker's registry record, written compare-and-set on an in-memory registry."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from pyoco_server.domain.errors import BackendUnavailable
from pyoco_server.domain.records import Job, WheelState, WorkerRecord, WorkerState
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus
from pyoco_server.ports import WorkerRegistry
from pyoco_worker.presence import Presence
from tests.support.fakes import Clock, Spy
from tests.support.memory import registry_with
from tests.support.samples import worker_record as record

T = TypeVar("T")
START = 1_000.0
DISCONNECT_TIMEOUT = 20.0


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coroutine, 10.0))


async def until(predicate: Callable[[], T], timeout: float = 5.0, what: str = "") -> T:
    """Poll `predicate` on the loop until it is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or predicate}")
        await asyncio.sleep(0.005)
    return value


def presence(registry: WorkerRegistry, clock: Clock, worker_id: str = "w1") -> Presence:
    return Presence(registry, worker_id=worker_id, tags=["a", "b"], concurrency=2, clock=clock)


def ended(run_id: str, status: RunStatus, at: float) -> RunSnapshot:
    job = Job(run_id, "main", "a", ("a",), {}, 1.0)
    return RunSnapshot.pending(job).claimed("w1", 1, at - 1).finished(status, at)


def state_is(registry: Any, state: WorkerState, worker_id: str = "w1") -> bool:
    return registry.current(worker_id).state is state


# --- start -----------------------------------------------------------------------------------


def test_start_writes_an_idle_record() -> None:
    registry = registry_with()
    me = presence(registry, Clock(START))

    run(me.start(DISCONNECT_TIMEOUT))

    written = registry.current("w1")
    assert written == me.record
    assert written.state is WorkerState.IDLE
    assert (written.tags, written.concurrency, written.current_run_ids) == (("a", "b"), 2, ())
    assert written.started_at == written.last_seen_at == written.updated_at == START
    assert written.hidden is False
    assert (written.hostname, written.pid) == (socket.gethostname(), os.getpid())
    assert (written.stopped_at, written.stop_reason) == (None, None)
    assert (written.runs_completed, written.runs_failed, written.last_run_id) == (0, 0, None)
    assert registry.puts == 1


def test_each_start_gets_a_new_instance_id() -> None:
    registry = registry_with()
    first, second = presence(registry, Clock(START)), presence(registry, Clock(START))

    run(first.start(DISCONNECT_TIMEOUT))
    run(second.start(DISCONNECT_TIMEOUT))

    assert first.record.instance_id != second.record.instance_id
    assert registry.current("w1").instance_id == second.record.instance_id


def test_start_keeps_hidden_from_an_earlier_record_and_nothing_else() -> None:
    earlier = record(
        "w1",
        WorkerState.STOPPED_GRACEFUL,
        hidden=True,
        instance_id="old",
        runs_completed=7,
        stopped_at=START - 50,
        stop_reason="graceful_shutdown",
        last_seen_at=START - 50,
    )
    registry = registry_with(earlier)
    me = presence(registry, Clock(START))

    run(me.start(DISCONNECT_TIMEOUT))

    written = registry.current("w1")
    assert written.hidden is True
    assert written.instance_id not in ("old", None)
    assert written.state is WorkerState.IDLE
    assert (written.runs_completed, written.stopped_at, written.stop_reason) == (0, None, None)
    assert registry.puts == 1, "the write was a compare-and-set on the earlier record"


def test_start_warns_when_a_live_worker_uses_the_same_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = registry_with(record("w1", WorkerState.RUNNING, last_seen_at=START - 1))

    with caplog.at_level(logging.WARNING, logger="pyoco_worker.presence"):
        run(presence(registry, Clock(START)).start(DISCONNECT_TIMEOUT))

    assert "also used by a live worker" in caplog.text


def test_start_does_not_warn_about_a_record_gone_stale(caplog: pytest.LogCaptureFixture) -> None:
    stale = record("w1", WorkerState.RUNNING, last_seen_at=START - DISCONNECT_TIMEOUT - 1)
    registry = registry_with(stale)

    with caplog.at_level(logging.WARNING, logger="pyoco_worker.presence"):
        run(presence(registry, Clock(START)).start(DISCONNECT_TIMEOUT))

    assert "also used" not in caplog.text


# --- runs ------------------------------------------------------------------------------------


def test_running_and_idle_follow_the_runs_through_the_loop() -> None:
    registry = registry_with()
    clock = Clock(START)
    me = presence(registry, clock)

    async def scenario() -> tuple[WorkerRecord, WorkerRecord]:
        await me.start(DISCONNECT_TIMEOUT)
        clock.now += 5
        me.run_started("r1")
        assert state_is(registry, WorkerState.IDLE), "the write happens on the loop, not inline"
        await until(lambda: state_is(registry, WorkerState.RUNNING), what="RUNNING")
        running = registry.current("w1")
        clock.now += 5
        me.run_ended("r1", ended("r1", RunStatus.COMPLETED, clock.now - 1))
        await until(lambda: state_is(registry, WorkerState.IDLE), what="IDLE")
        return running, registry.current("w1")

    running, idle = run(scenario())

    assert running.current_run_ids == ("r1",)
    assert running.last_seen_at == running.updated_at == START + 5
    assert idle.current_run_ids == ()
    assert (idle.runs_completed, idle.runs_failed) == (1, 0)
    assert (idle.last_run_id, idle.last_run_status) == ("r1", "COMPLETED")
    assert idle.last_run_finished_at == START + 9
    assert idle.updated_at == START + 10


def test_current_run_ids_and_counters_follow_several_runs() -> None:
    registry = registry_with()
    clock = Clock(START)
    me = presence(registry, clock)

    async def scenario() -> list[WorkerRecord]:
        seen = []
        await me.start(DISCONNECT_TIMEOUT)
        clock.now += 5
        me.run_started("r1")
        me.run_started("r2")
        await until(lambda: state_is(registry, WorkerState.RUNNING))
        seen.append(registry.current("w1"))
        me.run_ended("r1", ended("r1", RunStatus.FAILED, clock.now))
        await me.beat()
        seen.append(registry.current("w1"))
        clock.now += 5
        me.run_ended("r2", None)  # handed back at shutdown: not counted
        await until(lambda: state_is(registry, WorkerState.IDLE))
        seen.append(registry.current("w1"))
        return seen

    both, one, none = run(scenario())

    assert both.current_run_ids == ("r1", "r2")
    assert one.state is WorkerState.RUNNING
    assert one.current_run_ids == ("r2",)
    assert (one.runs_completed, one.runs_failed, one.last_run_status) == (0, 1, "FAILED")
    assert none.current_run_ids == ()
    assert (none.runs_completed, none.runs_failed, none.last_run_id) == (0, 1, "r1")


def test_cancelled_runs_count_as_not_completed() -> None:
    registry = registry_with()
    me = presence(registry, Clock(START))

    async def scenario() -> None:
        await me.start(DISCONNECT_TIMEOUT)
        me.run_started("r1")
        me.run_ended("r1", ended("r1", RunStatus.CANCELLED, START))
        await me.beat()

    run(scenario())

    written = registry.current("w1")
    assert (written.runs_completed, written.runs_failed) == (0, 1)
    assert written.last_run_status == "CANCELLED"


def test_a_change_within_a_second_of_the_last_write_waits_for_the_rest_of_it() -> None:
    registry = registry_with()
    clock = Clock(START)
    me = presence(registry, clock)

    async def scenario() -> float:
        await me.start(DISCONNECT_TIMEOUT)
        clock.now += 0.8  # the last write was 0.8s ago: the next may come in 0.2s
        asked = time.monotonic()
        me.run_started("r1")
        for _ in range(3):
            await asyncio.sleep(0)
        assert registry.puts == 1, "written before a second had passed"
        await until(lambda: state_is(registry, WorkerState.RUNNING), what="the deferred write")
        return time.monotonic() - asked

    took = run(scenario())

    assert took >= 0.15


def test_a_failing_beat_is_logged_and_the_next_one_writes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = Spy(registry_with())
    clock = Clock(START)
    me = presence(registry, clock)

    async def scenario() -> None:
        await me.start(DISCONNECT_TIMEOUT)
        registry.fail("put", BackendUnavailable("NATS is down"))
        await me.beat()
        del registry.before["put"]
        clock.now += 3
        await me.beat()

    with caplog.at_level(logging.WARNING, logger="pyoco_worker.presence"):
        run(scenario())

    assert "registry record not written" in caplog.text
    assert registry.current("w1").last_seen_at == START + 3


def test_changes_made_while_a_write_is_in_flight_are_in_the_next_write() -> None:
    registry, clock = Spy(registry_with()), Clock(START)
    me = presence(registry, clock)
    synced = WheelState(enabled=True, last_synced_at=START + 5)

    async def scenario() -> None:
        await me.start(DISCONNECT_TIMEOUT)
        gate, sent = asyncio.Event(), asyncio.Event()

        async def slow_round_trip(record: WorkerRecord, revision: int | None) -> None:
            sent.set()
            await gate.wait()

        registry.before["put"] = slow_round_trip
        clock.now += 5
        beat = asyncio.create_task(me.beat())
        await asyncio.wait_for(sent.wait(), 5)
        me.wheels_changed(synced)  # the wheel sync finished an install during the round trip
        me.run_ended("r1", ended("r1", RunStatus.COMPLETED, clock.now))
        gate.set()
        await beat  # which must not put back the record it sent
        del registry.before["put"]
        clock.now += 1
        await until(lambda: registry.current("w1").wheels == synced, what="the wheels written")

    run(scenario())
    assert (registry.current("w1").runs_completed, registry.current("w1").last_run_id) == (1, "r1")


# --- an operator's concurrent hidden change --------------------------------------------------


@pytest.mark.parametrize("hidden", [True, False])
def test_a_concurrent_hidden_change_survives_the_next_beat(hidden: bool) -> None:
    registry = registry_with(record("w1", hidden=not hidden, last_seen_at=START - 100))
    clock = Clock(START)
    me = presence(registry, clock)

    async def scenario() -> None:
        await me.start(DISCONNECT_TIMEOUT)
        registry.write(dataclasses.replace(registry.current("w1"), hidden=hidden))
        clock.now += 2
        await me.beat()

    run(scenario())

    written = registry.current("w1")
    assert written.hidden is hidden
    assert written.last_seen_at == START + 2
    assert me.record.hidden is hidden
    assert registry.puts == 3, "start, the lost beat, the beat again"


def test_a_record_removed_meanwhile_is_written_again() -> None:
    registry = registry_with()
    me = presence(registry, Clock(START))

    async def scenario() -> None:
        await me.start(DISCONNECT_TIMEOUT)
        registry.bucket.delete("w1")
        await me.beat()

    run(scenario())

    assert registry.current("w1").instance_id == me.record.instance_id


# --- stop ------------------------------------------------------------------------------------


def test_stop_writes_stopped_graceful() -> None:
    registry = registry_with()
    clock = Clock(START)
    me = presence(registry, clock)

    async def scenario() -> None:
        await me.start(DISCONNECT_TIMEOUT)
        clock.now += 30
        await me.stop()

    run(scenario())

    written = registry.current("w1")
    assert written.state is WorkerState.STOPPED_GRACEFUL
    assert written.stopped_at == START + 30
    assert written.stop_reason == "graceful_shutdown"
    assert written.current_run_ids == ()
    assert written.updated_at == START + 30


def test_stop_records_its_reason_and_keeps_a_concurrent_hidden_change() -> None:
    registry = registry_with()
    me = presence(registry, Clock(START))

    async def scenario() -> None:
        await me.start(DISCONNECT_TIMEOUT)
        registry.write(dataclasses.replace(registry.current("w1"), hidden=True))
        await me.stop("maintenance")

    run(scenario())

    written = registry.current("w1")
    assert (written.state, written.stop_reason, written.hidden) == (
        WorkerState.STOPPED_GRACEFUL,
        "maintenance",
        True,
    )


def test_a_write_in_flight_when_stop_is_called_does_not_undo_the_stop() -> None:
    registry = Spy(registry_with())
    clock = Clock(START)
    me = presence(registry, clock)
    waiting: list[WorkerRecord] = []

    async def scenario() -> None:
        await me.start(DISCONNECT_TIMEOUT)
        clock.now += 5
        me.run_started("r1")
        await until(lambda: state_is(registry, WorkerState.RUNNING), what="RUNNING")
        clock.now += 5
        gate = asyncio.Event()

        async def slow_round_trip(record: WorkerRecord, revision: int | None) -> None:
            waiting.append(record)
            await gate.wait()

        registry.before["put"] = slow_round_trip  # puts wait for the gate from now on
        me.run_ended("r1", ended("r1", RunStatus.COMPLETED, clock.now))
        await until(lambda: len(waiting) == 1, what="the IDLE write to be in flight")
        stopping = asyncio.create_task(me.stop())
        for _ in range(3):
            await asyncio.sleep(0)  # let stop reach its write (or its wait for the one in flight)
        gate.set()
        await stopping
        await until(lambda: registry.in_flight == 0, what="every write to end")

    run(scenario())

    written = registry.current("w1")
    assert written.state is WorkerState.STOPPED_GRACEFUL
    assert written.stopped_at == START + 10
    assert written.stop_reason == "graceful_shutdown"
    assert written.runs_completed == 1
