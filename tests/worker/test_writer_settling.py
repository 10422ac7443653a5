"""RunWriter records an attempt's end through a NATS flap: the work is done, and a write given
up would hand the job back to run a second time (a task's side effect twice)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from pyoco_server.domain.errors import BackendUnavailable, StaleAttempt
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus
from pyoco_server.memory import MemoryRunStore
from pyoco_worker.execution import Outcome
from pyoco_worker.writer import RunWriter
from tests.support.fakes import Spy
from tests.support.memory import backend_with
from tests.support.samples import NOW, PENDING, RUN_ID

T = TypeVar("T")
OUTCOME = Outcome(RunStatus.COMPLETED, {}, {})


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


class FlakyStore:
    """A run store whose next `failures` updates fail; `landing` ones are stored first."""

    def __init__(self, failures: int, *, landing: bool = False) -> None:
        self.store: MemoryRunStore = backend_with(PENDING.claimed("w1", 1, now=50.0)).runs
        self.spy = Spy(self.store)
        self.left = failures
        self.landing = landing
        self.spy.before["update"] = self._maybe_fail

    async def _maybe_fail(self, snapshot: RunSnapshot, revision: int) -> None:
        if self.left <= 0:
            return
        self.left -= 1
        if self.landing:  # the write is stored, its answer is lost (a timeout)
            await self.store.update(snapshot, revision)
        raise BackendUnavailable("NATS did not complete updating the run: nats: timeout")

    async def writer(self, settle_within: float) -> RunWriter:
        stored = await self.store.get(RUN_ID)
        assert stored is not None
        return RunWriter(
            self.spy,
            stored,
            worker_id="w1",
            attempt=1,
            flush_interval=60.0,
            clock=lambda: NOW,
            settle_within=settle_within,
        )


def status_of(store: MemoryRunStore) -> RunStatus:
    current = store.current(RUN_ID)
    assert current is not None
    return current.status


def test_the_end_of_an_attempt_is_written_through_a_flap() -> None:
    flaky = FlakyStore(failures=3)

    async def body() -> RunSnapshot:
        return await (await flaky.writer(settle_within=2.0)).finish(OUTCOME)

    assert run(body()).status is RunStatus.COMPLETED
    assert status_of(flaky.store) is RunStatus.COMPLETED
    assert len(flaky.spy.calls_to("update")) == 4


def test_an_end_that_landed_though_its_answer_was_lost_is_not_written_twice() -> None:
    flaky = FlakyStore(failures=1, landing=True)

    async def body() -> RunSnapshot:
        return await (await flaky.writer(settle_within=2.0)).finish(OUTCOME)

    with pytest.raises(StaleAttempt) as raised:
        run(body())
    assert raised.value.ended  # so the runner acks the job rather than running it again
    assert status_of(flaky.store) is RunStatus.COMPLETED


def test_an_outage_longer_than_the_bound_gives_up() -> None:
    flaky = FlakyStore(failures=99)

    async def body() -> RunSnapshot:
        return await (await flaky.writer(settle_within=0.5)).cancel_unstarted()

    with pytest.raises(BackendUnavailable):
        run(body())
    assert status_of(flaky.store) is RunStatus.RUNNING
    assert 2 <= len(flaky.spy.calls_to("update")) <= 5
