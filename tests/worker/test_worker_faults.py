"""The worker under faults, on the in-memory backend: a job's extra delivery ends its run; a run
another attempt took over is stopped and its job left alone; a worker that lost touch with NATS
for longer than AckWait stops its runs and hands their jobs back; the runs' lease is renewed
only when NATS answers."""

from __future__ import annotations

import asyncio
import time

from pyoco_server.domain.codec import JOB
from pyoco_server.domain.records import DeadLetterReason
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import FailureReason, RunStatus
from pyoco_worker.execution import StopReason
from tests.support.fakes import ScriptedExecutor
from tests.support.loop import Deployment, run, serving
from tests.support.runner import runner_harness
from tests.support.samples import A_JOB, NOW, PENDING, RUN_ID


def test_the_extra_delivery_ends_the_run_instead_of_running_it() -> None:
    h = runner_harness(
        PENDING.claimed("w0", 2, 5.0), settings=Settings(consumer_max_deliver=2), traced=True
    )

    status = h.deliver(h.delivery(JOB.encode(A_JOB), attempt=3))

    assert status is RunStatus.FAILED
    assert h.executor.jobs == []
    ended = h.store.current(RUN_ID)
    assert (ended.status, ended.error_reason) == (
        RunStatus.FAILED,
        FailureReason.MAX_DELIVERIES_EXCEEDED,
    )
    assert ended.end_time == NOW
    (letter,) = h.dead_letters.letters
    assert (letter.reason, letter.num_delivered, letter.job) == (
        DeadLetterReason.MAX_DELIVERIES_EXCEEDED,
        2,
        A_JOB,
    )
    assert h.log[-1] == "term"


def test_the_last_counted_delivery_still_runs() -> None:
    h = runner_harness(PENDING.claimed("w0", 1, 5.0), settings=Settings(consumer_max_deliver=2))

    status = h.deliver(h.delivery(JOB.encode(A_JOB), attempt=2))

    assert status is RunStatus.COMPLETED
    assert [job.run_id for job in h.executor.jobs] == [RUN_ID]


def test_a_run_taken_over_by_a_newer_attempt_stops_and_its_job_is_left_alone() -> None:
    async def test() -> None:
        deployment = Deployment()
        executor = ScriptedExecutor(hold=True)
        async with serving(deployment.worker(executor)):
            (run_id,) = await deployment.submit()
            await executor.wait_until(lambda: bool(executor.running))
            mine = deployment.snapshot(run_id)
            deployment.backend.runs.put(mine.claimed("w2", mine.attempt + 1, time.time()))
            # The next heartbeat loses its compare-and-set to attempt 2: the run is stopped.
            await executor.wait_until(lambda: not executor.running)
            snapshot = deployment.snapshot(run_id)
            assert (snapshot.status, snapshot.worker_id) == (RunStatus.RUNNING, "w2")
            assert executor.stops == {run_id: StopReason.ABANDONED}
            assert not any(event.startswith("nak") for event in deployment.backend.events)

    run(test)


def test_a_worker_cut_off_for_longer_than_ack_wait_hands_its_runs_back() -> None:
    async def test() -> None:
        deployment = Deployment()
        executor = ScriptedExecutor(hold=True)
        async with serving(deployment.worker(executor)):
            (run_id,) = await deployment.submit()
            await executor.wait_until(lambda: bool(executor.running))
            assert executor.lease is not None
            assert executor.lease > time.monotonic()
            renewed = executor.lease
            deployment.backend.cut()
            # The fault itself: NATS stays away for longer than AckWait (0.3 s).
            await asyncio.sleep(deployment.settings.consumer_ack_wait_sec * 2)
            assert executor.lease == renewed, "the lease was renewed without NATS"
            deployment.backend.restore()
            await executor.wait_until(lambda: executor.stops.get(run_id) is StopReason.ABANDONED)
            executor.release()
            await deployment.ended(run_id)
        snapshot = deployment.snapshot(run_id)
        assert (snapshot.status, snapshot.attempt) == (RunStatus.COMPLETED, 2)
        assert "nak None" in deployment.backend.events

    run(test)
