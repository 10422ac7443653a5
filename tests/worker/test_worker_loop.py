"""The worker loop on the in-memory backend: fetch, dispatch, limits, cancels, redelivery, stops.

Every test here builds a real `Worker` with `MemoryBackend` and a scripted executor, so the
loop's own logic (the part where the original hung) is checked in milliseconds; the same
behaviours are checked end to end against nats-server in tests/e2e.
"""

from __future__ import annotations

import asyncio

import pytest

from pyoco_server.domain.records import WorkerState
from pyoco_server.domain.snapshot import AttemptStatus, FailureReason, RunStatus
from pyoco_server.services.runs import RunService
from tests.support.fakes import ScriptedExecutor
from tests.support.loop import Deployment, run, serving

pytestmark = pytest.mark.timeout(10)


def test_jobs_are_fetched_run_and_acked() -> None:
    async def test() -> None:
        deployment = Deployment()
        executor = ScriptedExecutor()
        async with serving(deployment.worker(executor, concurrency=2)):
            run_ids = await deployment.submit(3)
            await deployment.ended(*run_ids)
        assert {job.run_id for job in executor.started} == set(run_ids)
        for run_id in run_ids:
            snapshot = deployment.snapshot(run_id)
            assert (snapshot.status, snapshot.worker_id, snapshot.attempt) == (
                RunStatus.COMPLETED,
                "w1",
                1,
            )
        assert deployment.backend.events.count("ack") == 3
        assert deployment.backend.stream.messages == {}  # every job acknowledged

    run(test)


def test_a_job_published_while_idle_starts_at_once() -> None:
    async def test() -> None:
        deployment = Deployment()
        executor = ScriptedExecutor(hold=True)
        async with serving(deployment.worker(executor)):
            await asyncio.sleep(0)  # the worker is idle, long-polling
            (run_id,) = await deployment.submit()
            await executor.wait_until(lambda: len(executor.started) == 1, timeout=1)
            executor.release()
            await deployment.ended(run_id)

    run(test)


def test_no_more_runs_than_the_concurrency_execute_at_once() -> None:
    async def test() -> None:
        deployment = Deployment()
        executor = ScriptedExecutor(hold=True)
        async with serving(deployment.worker(executor, concurrency=2)):
            run_ids = await deployment.submit(5)
            await executor.wait_until(lambda: len(executor.running) == 2)
            for _ in range(3):  # the others wait (with in-progress acks) for a free slot
                await asyncio.sleep(0.05)
                assert len(executor.started) == 2
            executor.release()
            await deployment.ended(*run_ids)
        assert executor.max_running == 2
        assert len(executor.started) == 5

    run(test)


def test_every_tag_of_a_worker_is_served() -> None:
    async def test() -> None:
        deployment = Deployment()
        executor = ScriptedExecutor()
        worker = deployment.worker(executor, tags=("cpu", "gpu"), concurrency=2)
        async with serving(worker):
            cpu = await deployment.submit(2, tag="cpu")
            gpu = await deployment.submit(2, tag="gpu")
            await deployment.ended(*cpu, *gpu)
            other = await deployment.submit(1, tag="other")
            await asyncio.sleep(0.2)
            assert deployment.snapshot(other[0]).status is RunStatus.PENDING

    run(test)


def test_a_cancel_notice_stops_the_running_run() -> None:
    async def test() -> None:
        deployment = Deployment()
        executor = ScriptedExecutor(hold=True)
        async with serving(deployment.worker(executor)):
            (run_id,) = await deployment.submit()
            await executor.wait_until(lambda: run_id in executor.running)
            await deployment.service.cancel(run_id, requested_by="test", reason="enough")
            await deployment.ended(run_id)
        snapshot = deployment.snapshot(run_id)
        assert (snapshot.status, snapshot.error_reason) == (RunStatus.CANCELLED, "cancelled")
        assert snapshot.cancel_requested_by == "test"
        assert deployment.backend.events[-2:] == ["write CANCELLED", "ack"]

    run(test)


def test_a_missed_cancel_notice_is_noticed_at_the_next_write() -> None:
    async def test() -> None:
        deployment = Deployment()
        deployment.service = RunService(
            deployment.backend.runs, deployment.backend.jobs, deployment.settings
        )  # no notifier: the notice never arrives
        executor = ScriptedExecutor(hold=True)
        async with serving(deployment.worker(executor)):
            (run_id,) = await deployment.submit()
            await executor.wait_until(lambda: run_id in executor.running)
            await deployment.service.cancel(run_id, requested_by="test", reason=None)
            await deployment.ended(run_id)  # the run heartbeat's write lost and re-read
        assert deployment.snapshot(run_id).status is RunStatus.CANCELLED

    run(test)


def test_an_unacknowledged_delivery_comes_back_as_the_next_attempt() -> None:
    async def test() -> None:
        deployment = Deployment()
        (run_id,) = await deployment.submit()
        lost = await deployment.backend.jobs.subscribe("default")
        (first,) = await lost.fetch(1, 1.0)  # a worker that takes the job and dies
        assert first.attempt == 1
        executor = ScriptedExecutor()
        async with serving(deployment.worker(executor)):
            await deployment.ended(run_id)  # after the ack wait (0.3 s)
        snapshot = deployment.snapshot(run_id)
        assert (snapshot.status, snapshot.attempt) == (RunStatus.COMPLETED, 2)

    run(test)


def test_a_run_claimed_by_a_dead_worker_records_the_lost_attempt() -> None:
    async def test() -> None:
        deployment = Deployment()
        (run_id,) = await deployment.submit()
        lost = await deployment.backend.jobs.subscribe("default")
        await lost.fetch(1, 1.0)
        dead = deployment.snapshot(run_id).claimed("w0", 1, 50.0)
        deployment.backend.runs.put(dead)
        async with serving(deployment.worker(ScriptedExecutor())):
            await deployment.ended(run_id)
        attempts = deployment.snapshot(run_id).attempts
        assert [(a.attempt, a.worker_id, a.status) for a in attempts] == [
            (1, "w0", AttemptStatus.LOST),
            (2, "w1", AttemptStatus.COMPLETED),
        ]

    run(test)


def test_a_fenced_out_attempt_leaves_the_run_to_its_owner() -> None:
    async def test() -> None:
        deployment = Deployment()
        executor = ScriptedExecutor(hold=True)
        async with serving(deployment.worker(executor)):
            (run_id,) = await deployment.submit()
            await executor.wait_until(lambda: run_id in executor.running)
            newer = deployment.snapshot(run_id).claimed("w2", 2, 60.0)
            deployment.backend.runs.put(newer)  # a newer delivery attempt took the run over
            executor.release()
            await executor.wait_until(lambda: not executor.running)
            await asyncio.sleep(0.1)
        snapshot = deployment.snapshot(run_id)
        assert (snapshot.status, snapshot.worker_id, snapshot.attempt) == (
            RunStatus.RUNNING,
            "w2",
            2,
        )
        assert "ack" not in deployment.backend.events  # the owner acknowledges, not us

    run(test)


def test_shutdown_stops_fetching_then_lets_runs_finish_then_says_stopped() -> None:
    async def test() -> None:
        deployment = Deployment()
        executor = ScriptedExecutor(hold=True)
        worker = deployment.worker(executor, concurrency=1)
        async with serving(worker) as stop:
            running, *waiting = await deployment.submit(3)
            await executor.wait_until(lambda: running in executor.running)
            stop.set()
            await asyncio.sleep(0.1)
            assert deployment.snapshot(running).status is RunStatus.RUNNING  # still finishing
            record = deployment.backend.workers.current("w1")
            assert record is not None
            assert record.state is WorkerState.RUNNING
            executor.release(running)
        assert deployment.snapshot(running).status is RunStatus.COMPLETED
        assert executor.events[-2:] == [f"ended {running}", "executor closed"]
        record = deployment.backend.workers.current("w1")
        assert record is not None
        assert record.state is WorkerState.STOPPED_GRACEFUL
        for run_id in waiting:  # never fetched: still queued for another worker
            assert deployment.snapshot(run_id).status is RunStatus.PENDING
        queued = deployment.backend.stream.messages.values()
        assert len(queued) == 2
        assert not any(message.in_flight for message in queued)

    run(test)


def test_runs_still_going_after_the_grace_are_stopped_and_handed_back() -> None:
    async def test() -> None:
        deployment = Deployment()
        executor = ScriptedExecutor(hold=True)
        async with serving(deployment.worker(executor, grace=0.1)) as stop:
            (run_id,) = await deployment.submit()
            await executor.wait_until(lambda: run_id in executor.running)
            stop.set()
        assert deployment.snapshot(run_id).status is RunStatus.RUNNING  # left for redelivery
        assert "nak None" in deployment.backend.events
        assert deployment.backend.stream.messages  # the job is back in the queue
        record = deployment.backend.workers.current("w1")
        assert record is not None
        assert record.state is WorkerState.STOPPED_GRACEFUL

    run(test)


def test_a_handed_back_job_runs_on_another_worker() -> None:
    async def test() -> None:
        deployment = Deployment()
        first = ScriptedExecutor(hold=True)
        async with serving(deployment.worker(first, grace=0.05)) as stop:
            (run_id,) = await deployment.submit()
            await first.wait_until(lambda: run_id in first.running)
            stop.set()
        second = ScriptedExecutor()
        async with serving(deployment.worker(second, worker_id="w2")):
            await deployment.ended(run_id)
        snapshot = deployment.snapshot(run_id)
        assert (snapshot.status, snapshot.worker_id, snapshot.attempt) == (
            RunStatus.COMPLETED,
            "w2",
            2,
        )

    run(test)


def test_a_job_out_of_deliveries_ends_failed_with_a_dead_letter() -> None:
    async def test() -> None:
        deployment = Deployment(consumer_max_deliver=2, consumer_ack_wait_sec=0.05)
        (run_id,) = await deployment.submit()
        lost = await deployment.backend.jobs.subscribe("default")
        for _ in range(2):  # two workers take the job and die
            assert await lost.fetch(1, 1.0)
            await asyncio.sleep(0.06)
        async with serving(deployment.worker(ScriptedExecutor())):
            await deployment.ended(run_id)  # the advisory reaches the worker's handler
        snapshot = deployment.snapshot(run_id)
        assert (snapshot.status, snapshot.error_reason) == (
            RunStatus.FAILED,
            FailureReason.MAX_DELIVERIES_EXCEEDED,
        )
        (letter,) = deployment.backend.dead_letters.letters
        assert letter.run_id == run_id
        assert deployment.backend.stream.messages == {}

    run(test)


def test_an_outage_delays_fetching_without_ending_the_worker() -> None:
    async def test() -> None:
        deployment = Deployment()
        executor = ScriptedExecutor()
        async with serving(deployment.worker(executor)):
            deployment.backend.cut()
            await asyncio.sleep(0.1)
            deployment.backend.restore()
            (run_id,) = await deployment.submit()
            await deployment.ended(run_id)

    run(test)
