"""RunWriter: compare-and-set snapshot writes of one delivery attempt, with coalesced progress."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from pyoco_server.domain.errors import StaleAttempt
from pyoco_server.domain.snapshot import (
    FailureReason,
    RunSnapshot,
    RunStatus,
    TaskRecord,
    TaskState,
)
from pyoco_server.memory import MemoryRunStore
from pyoco_worker.execution import Outcome, Progress
from pyoco_worker.writer import RunWriter
from tests.support.memory import backend_with
from tests.support.samples import NOW, PENDING, RUN_ID

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


async def new_writer(
    store: MemoryRunStore,
    *,
    worker_id: str = "w1",
    attempt: int = 1,
    flush_interval: float = 60.0,
) -> RunWriter:
    stored = await store.get(RUN_ID)
    assert stored is not None
    return RunWriter(
        store,
        stored,
        worker_id=worker_id,
        attempt=attempt,
        flush_interval=flush_interval,
        clock=lambda: NOW,
    )


def store_with(*snapshots: RunSnapshot) -> MemoryRunStore:
    return backend_with(*snapshots).runs


async def wait_for_writes(store: MemoryRunStore, count: int) -> None:
    await store.wait_for(lambda: len(store.writes) >= count)


def progress(**states: TaskState) -> Progress:
    return Progress(
        tasks=dict(states),
        records={name: TaskRecord(state=state) for name, state in states.items()},
    )


def completed() -> Outcome:
    return Outcome(
        RunStatus.COMPLETED,
        {"add_one": TaskState.SUCCEEDED},
        {"add_one": TaskRecord(state=TaskState.SUCCEEDED, inputs={"x": 1}, output=2)},
    )


def running(worker_id: str, attempt: int) -> RunSnapshot:
    return PENDING.claimed(worker_id, attempt, now=50.0)


def test_claim_writes_running_with_worker_and_attempt() -> None:
    store = store_with(PENDING)

    async def scenario() -> RunSnapshot:
        writer = await new_writer(store, worker_id="w1", attempt=2)
        return await writer.claim()

    claimed = run(scenario())

    assert store.writes == [claimed]
    assert claimed.status is RunStatus.RUNNING
    assert (claimed.worker_id, claimed.attempt) == ("w1", 2)
    assert claimed.start_time == claimed.heartbeat_at == claimed.updated_at == NOW
    assert claimed.end_time is None


def test_claim_takes_over_from_an_older_attempt() -> None:
    store = store_with(running("w0", attempt=1))

    async def scenario() -> RunSnapshot:
        writer = await new_writer(store, worker_id="w1", attempt=2)
        return await writer.claim()

    claimed = run(scenario())

    assert (claimed.worker_id, claimed.attempt) == ("w1", 2)


@pytest.mark.parametrize(
    ("owner", "why"),
    [
        (running("w2", attempt=3), "attempt 3 by w2 replaced attempt 2"),
        (running("w2", attempt=2), "attempt 2 by w2 replaced attempt 2"),
        (running("w1", attempt=2).finished(RunStatus.CANCELLED, 60.0), "already ended"),
    ],
    ids=["newer-attempt", "same-attempt-other-worker", "already-ended"],
)
def test_claim_of_a_run_owned_elsewhere_raises_stale_attempt(owner: RunSnapshot, why: str) -> None:
    store = store_with(owner)

    async def scenario() -> None:
        writer = await new_writer(store, worker_id="w1", attempt=2)
        await writer.claim()

    with pytest.raises(StaleAttempt) as info:
        run(scenario())

    assert why in info.value.detail
    assert store.writes == []
    assert store.current(RUN_ID) == owner


def test_claim_loses_to_a_newer_attempt_written_after_the_read() -> None:
    store = store_with(PENDING)

    async def scenario() -> None:
        writer = await new_writer(store, worker_id="w1", attempt=1)
        store.put(running("w2", attempt=2))
        await writer.claim()

    with pytest.raises(StaleAttempt):
        run(scenario())

    assert store.conflicts == 1
    assert store.current(RUN_ID).worker_id == "w2"


def test_finish_writes_the_terminal_snapshot_and_keeps_the_owner() -> None:
    store = store_with(PENDING)
    outcome = completed()

    async def scenario() -> RunSnapshot:
        writer = await new_writer(store, worker_id="w1", attempt=2)
        await writer.claim()
        return await writer.finish(outcome)

    final = run(scenario())

    assert store.current(RUN_ID) == final
    assert final.status is RunStatus.COMPLETED
    assert (final.worker_id, final.attempt) == ("w1", 2)
    assert final.end_time == NOW
    assert final.tasks == outcome.tasks
    assert final.task_records == outcome.records
    assert (final.error, final.error_reason) == (None, None)


def test_finish_of_a_failure_records_error_and_reason() -> None:
    store = store_with(PENDING)
    outcome = Outcome(RunStatus.FAILED, {}, {}, "ValueError: boom", FailureReason.EXECUTION_ERROR)

    async def scenario() -> RunSnapshot:
        writer = await new_writer(store)
        await writer.claim()
        return await writer.finish(outcome)

    final = run(scenario())

    assert final.status is RunStatus.FAILED
    assert final.error == "ValueError: boom"
    assert final.error_reason == "execution_error"


def test_concurrent_write_by_the_same_attempt_is_rebased() -> None:
    store = store_with(PENDING)

    async def scenario() -> RunSnapshot:
        writer = await new_writer(store, worker_id="w1", attempt=1)
        claimed = await writer.claim()
        store.put(dataclasses.replace(claimed, tags=("default", "foreign"), heartbeat_at=70.0))
        return await writer.finish(completed())

    final = run(scenario())

    assert store.conflicts == 1
    assert store.current(RUN_ID) == final
    assert final.status is RunStatus.COMPLETED
    assert final.tags == ("default", "foreign")
    assert (final.worker_id, final.attempt) == ("w1", 1)


def test_finish_after_a_newer_attempt_took_over_raises_stale_attempt() -> None:
    store = store_with(PENDING)
    newer = running("w2", attempt=2)

    async def scenario() -> None:
        writer = await new_writer(store, worker_id="w1", attempt=1)
        await writer.claim()
        store.put(newer)
        await writer.finish(completed())

    with pytest.raises(StaleAttempt):
        run(scenario())

    assert store.current(RUN_ID) == newer


def test_finish_of_a_deleted_run_raises_stale_attempt() -> None:
    store = store_with(PENDING)

    async def scenario() -> None:
        writer = await new_writer(store)
        await writer.claim()
        await store.delete(RUN_ID)
        await writer.finish(completed())

    with pytest.raises(StaleAttempt, match="deleted"):
        run(scenario())


def test_progress_within_the_flush_interval_is_coalesced() -> None:
    store = store_with(PENDING)
    first_burst = [
        progress(add_one=TaskState.RUNNING, to_text=TaskState.PENDING),
        progress(add_one=TaskState.SUCCEEDED, to_text=TaskState.PENDING),
        progress(add_one=TaskState.SUCCEEDED, to_text=TaskState.RUNNING),
    ]
    second_burst = progress(add_one=TaskState.SUCCEEDED, to_text=TaskState.SUCCEEDED)

    async def scenario() -> None:
        writer = await new_writer(store, flush_interval=0.001)
        await writer.claim()
        for update in first_burst:
            writer.progress(update)
        await wait_for_writes(store, 2)
        writer.progress(second_burst)
        await wait_for_writes(store, 3)
        await writer.finish(completed())

    run(scenario())

    claim, first_flush, second_flush, final = store.writes
    assert claim.status is RunStatus.RUNNING
    assert first_flush.status is RunStatus.RUNNING
    assert first_flush.tasks == first_burst[-1].tasks
    assert first_flush.task_records == first_burst[-1].records
    assert second_flush.tasks == second_burst.tasks
    assert final.status is RunStatus.COMPLETED


def test_a_run_that_finishes_before_the_flush_writes_no_progress() -> None:
    store = store_with(PENDING)

    async def scenario() -> None:
        writer = await new_writer(store, flush_interval=60.0)
        await writer.claim()
        writer.progress(progress(add_one=TaskState.RUNNING))
        await asyncio.wait_for(writer.finish(completed()), 5.0)

    run(scenario())

    assert [snapshot.status for snapshot in store.writes] == [
        RunStatus.RUNNING,
        RunStatus.COMPLETED,
    ]
    assert store.writes[-1].tasks == {"add_one": TaskState.SUCCEEDED}


def test_a_lost_progress_write_does_not_fail_the_run_writer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = store_with(PENDING)
    newer = running("w2", attempt=2)

    async def scenario() -> None:
        writer = await new_writer(store, worker_id="w1", attempt=1, flush_interval=0.001)
        await writer.claim()
        store.put(newer)
        writer.progress(progress(add_one=TaskState.RUNNING))
        await store.wait_for(lambda: store.conflicts >= 1)
        await writer.finish(completed())

    with pytest.raises(StaleAttempt):
        run(scenario())

    assert store.current(RUN_ID) == newer
    assert len(store.writes) == 1
    assert "replaced attempt 1; stopping this attempt" in caplog.text
