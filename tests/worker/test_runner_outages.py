"""JobRunner through NATS's short outages: a job delivered again while its run still runs here
is never a second attempt, a step before the start waits for NATS rather than spending a
delivery, and a read that lags the create it lost to is read again."""

from __future__ import annotations

import asyncio

import pytest

from pyoco_server.domain.errors import BackendUnavailable
from pyoco_server.domain.snapshot import RunStatus
from pyoco_server.ports import StoredSnapshot
from pyoco_worker import outages
from pyoco_worker.execution import ProgressCallback
from pyoco_worker.outages import read_after_conflict
from tests.support.runner import runner_harness
from tests.support.samples import A_JOB, PENDING, RUN_ID


async def _until(condition: object, what: str) -> None:
    for _ in range(1000):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"never: {what}")


def test_a_job_delivered_again_while_its_run_runs_here_waits_and_is_acked() -> None:
    h = runner_harness(PENDING)
    release = asyncio.Event()

    async def hold(_on_progress: ProgressCallback) -> None:
        await release.wait()

    h.executor.during_run = hold

    async def both() -> tuple[RunStatus | None, RunStatus | None]:
        first = asyncio.create_task(h.runner.handle(h.delivery(attempt=1)))
        await _until(lambda: RUN_ID in h.runner.active, "the first attempt runs")
        second = asyncio.create_task(h.runner.handle(h.delivery(attempt=2)))
        await asyncio.sleep(0.01)
        assert not second.done(), "the redelivery must wait for the attempt running here"
        release.set()
        return await first, await second

    first, second = asyncio.run(asyncio.wait_for(both(), 10))

    assert (first, second) == (RunStatus.COMPLETED, None)
    assert h.executor.jobs == [A_JOB], "executed once"
    assert h.log == ["write RUNNING", "execute", "write COMPLETED", "ack", "ack"]


def test_a_read_before_the_start_waits_for_nats_instead_of_returning_the_job() -> None:
    h = runner_harness(PENDING)
    waits: list[float] = []

    async def back(timeout: float) -> bool:
        waits.append(timeout)
        h.reads.before.pop("get")  # NATS is back
        return True

    h.reads.fail("get", BackendUnavailable("NATS is electing"))
    h.runner._wait_ready = back

    status = h.deliver(h.delivery())

    assert status is RunStatus.COMPLETED
    assert len(waits) == 1
    assert 0 < waits[0] <= h.backend.settings.consumer_ack_wait_sec / 2
    assert "nak 2.0" not in h.log


def test_without_nats_back_in_time_the_job_is_returned_as_before() -> None:
    h = runner_harness(PENDING)
    h.reads.fail("get", BackendUnavailable("NATS is away"))

    assert h.deliver(h.delivery()) is None
    assert h.log == ["nak 2.0"]


@pytest.fixture
def no_delays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outages, "REREAD_DELAYS_SEC", (0.0, 0.0, 0.0))


class LaggingStore:
    """A store whose first `misses` reads do not see the run (a replica behind its leader)."""

    def __init__(self, misses: int, exists: bool = True) -> None:
        self.misses = misses
        self.exists = exists
        self.reads = 0

    async def get(self, _run_id: str) -> StoredSnapshot | None:
        self.reads += 1
        if self.reads <= self.misses or not self.exists:
            return None
        return StoredSnapshot(PENDING, 1)


@pytest.mark.usefixtures("no_delays")
def test_a_run_not_read_back_after_a_lost_create_is_read_again() -> None:
    store = LaggingStore(misses=2)

    stored = asyncio.run(read_after_conflict(store, RUN_ID))  # type: ignore[arg-type]

    assert stored == StoredSnapshot(PENDING, 1)
    assert store.reads == 3


@pytest.mark.usefixtures("no_delays")
def test_a_run_never_read_back_is_taken_as_deleted() -> None:
    store = LaggingStore(misses=0, exists=False)

    assert asyncio.run(read_after_conflict(store, RUN_ID)) is None  # type: ignore[arg-type]
    assert store.reads == 4
