"""bench.floor's JetStream part: a run's messages as the gateway and the worker send them, bare
(nats-py on uvloop, one process each, on one nats-server). bench/floor.py says what it measures."""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
import uuid
from typing import Any

import orjson

from bench._stack import cpu_seconds, fresh_nats

SUBMIT_CONCURRENCY = 32
WORKER_CONCURRENCY = 8
IDLE_RUNS = 300


def _templates() -> tuple[dict[str, Any], dict[str, Any]]:
    """A job and its PENDING snapshot as pyoco-server writes them (domain/codec.py), for the
    trivial flow by name; each run gets its own id."""
    from pyoco_server.domain.codec import JOB, SNAPSHOT
    from pyoco_server.domain.records import Job
    from pyoco_server.domain.snapshot import RunSnapshot

    job = Job(
        tenant_id=None,
        run_id=uuid.uuid4().hex,
        flow_name="trivial",
        tag="default",
        tags=("default",),
        params={"x": 1},
        submitted_at=time.time(),
    )
    return JOB.to_dict(job), SNAPSHOT.to_dict(RunSnapshot.pending(job, job_seq=1))


_JOB, _SNAPSHOT = _templates()


def _configs() -> tuple[Any, Any]:
    """The job stream and the runs bucket as pyoco-server configures them (work-queue retention,
    deduplication, bounds; history, TTL and delete markers), under the floor's own names, so
    nats-server does the same work for a message as for the real one."""
    import dataclasses

    from pyoco_server.domain.settings import Settings
    from pyoco_server.jetstream._resources import bucket_configs, work_stream_config

    settings = Settings.from_env({"PYOCO_NATS_URL": "nats://127.0.0.1:4222"})
    jobs = dataclasses.replace(
        work_stream_config(settings), name="FLOOR_JOBS", subjects=["floor.jobs.>"]
    )
    (runs,) = [c for c in bucket_configs(settings) if c.bucket == settings.runs_kv_bucket]
    return jobs, dataclasses.replace(runs, bucket="floor_runs")


def _payload(template: dict[str, Any], run_id: str, **changes: Any) -> bytes:
    return orjson.dumps({**template, "run_id": run_id, **changes})


async def _gateway_side(url: str, runs: int, ready: Any, go: Any, loaded: Any) -> dict[str, float]:
    """Publish each job, create its record, watch the bucket until every run ended; then the
    same one run at a time (idle latency: from the publish to the terminal change seen)."""
    import nats

    nc = await nats.connect(url)
    js = nc.jetstream()
    jobs, runs_bucket = _configs()
    await js.add_stream(jobs)
    kv = await js.create_key_value(config=runs_bucket)
    loop = asyncio.get_running_loop()
    ended = 0
    all_ended = loop.create_future()
    waiting: dict[str, asyncio.Future[float]] = {}

    async def on_change(msg: Any) -> None:
        nonlocal ended
        if orjson.loads(msg.data)["status"] == "COMPLETED":
            ended += 1
            if ended == runs:
                all_ended.set_result(None)
            waiter = waiting.pop(msg.subject.rpartition(".")[2], None)
            if waiter is not None:
                waiter.set_result(time.perf_counter())

    async def submit(run_id: str) -> None:
        await js.publish(
            "floor.jobs.default", _payload(_JOB, run_id), headers={"Nats-Msg-Id": run_id}
        )
        await kv.create(run_id, _payload(_SNAPSHOT, run_id))

    # The gateway's run index follows the bucket with an ordered push consumer.
    await js.subscribe("$KV.floor_runs.>", cb=on_change, ordered_consumer=True)
    ready.set()
    await loop.run_in_executor(None, go.wait)
    cpu = time.process_time()
    started = time.perf_counter()
    pending = iter(range(runs))

    async def submitter() -> None:
        for _ in pending:
            await submit(uuid.uuid4().hex)

    await asyncio.gather(*(submitter() for _ in range(SUBMIT_CONCURRENCY)))
    await asyncio.wait_for(all_ended, 300)
    result = {
        "runs_per_s": runs / (time.perf_counter() - started),
        "cpu_ms_per_run": (time.process_time() - cpu) * 1000 / runs,
    }
    loaded.set()
    latencies = []
    for _ in range(IDLE_RUNS):
        await asyncio.sleep(0.002)
        started = time.perf_counter()
        run_id = uuid.uuid4().hex
        waiting[run_id] = seen = loop.create_future()
        await submit(run_id)
        latencies.append(await asyncio.wait_for(seen, 10) - started)
    result["idle_p50_ms"] = statistics.median(latencies) * 1000
    result["idle_p99_ms"] = statistics.quantiles(latencies, n=100)[-1] * 1000
    await nc.close()
    return result


async def _worker_side(url: str, runs: int, ready: Any, go: Any, loaded: Any) -> dict[str, float]:
    """Fetch jobs, read each run's record, write it twice with compare-and-set, ack."""
    import nats

    nc = await nats.connect(url)
    js = nc.jetstream()
    while True:  # the gateway side creates the stream and the bucket
        try:
            kv = await js.key_value("floor_runs")
            await js.stream_info("FLOOR_JOBS")
            break
        except nats.js.errors.NotFoundError:
            await asyncio.sleep(0.05)
    subscription = await js.pull_subscribe("floor.jobs.>", durable="floor", stream="FLOOR_JOBS")
    ready.set()
    await asyncio.get_running_loop().run_in_executor(None, go.wait)
    cpu = time.process_time()
    free = asyncio.Semaphore(WORKER_CONCURRENCY)
    done: list[None] = []
    handlers: set[asyncio.Task[None]] = set()
    while len(done) < runs:
        for msg in await _fetch(subscription, free):
            task = asyncio.create_task(_claim_and_end(kv, msg, free, done))
            handlers.add(task)
            task.add_done_callback(handlers.discard)
    cpu_ms = (time.process_time() - cpu) * 1000 / runs
    while len(done) < runs + IDLE_RUNS:
        for msg in await _fetch(subscription, free):
            await _claim_and_end(kv, msg, free, done)
    await asyncio.gather(*handlers)
    await nc.close()
    return {"cpu_ms_per_run": cpu_ms}


async def _fetch(subscription: Any, free: asyncio.Semaphore) -> list[Any]:
    """As many jobs as there are free slots (at least one), each holding a slot."""
    import nats

    await free.acquire()
    taken = 1
    while taken < WORKER_CONCURRENCY and not free.locked():
        await free.acquire()
        taken += 1
    try:
        messages: list[Any] = await subscription.fetch(taken, timeout=1)
    except nats.errors.TimeoutError:
        messages = []
    for _ in range(taken - len(messages)):
        free.release()
    return messages


async def _claim_and_end(kv: Any, msg: Any, free: asyncio.Semaphore, done: list[None]) -> None:
    """A run's messages in the worker: read the record, RUNNING, COMPLETED, ack."""
    from nats.js.errors import KeyNotFoundError

    try:
        run_id = orjson.loads(msg.data)["run_id"]
        while True:
            try:
                entry = await kv.get(run_id)
                break
            except KeyNotFoundError:  # the job's publish was acked before the create
                await asyncio.sleep(0.0002)
        snapshot = orjson.loads(entry.value or b"")
        running = await kv.update(
            run_id, _payload(snapshot, run_id, status="RUNNING"), last=entry.revision
        )
        await kv.update(run_id, _payload(snapshot, run_id, status="COMPLETED"), last=running)
        await msg.ack()
        done.append(None)
    finally:
        free.release()


async def _observer_side(url: str, runs: int, ready: Any, go: Any, loaded: Any) -> dict[str, float]:
    """What bench.e2e does while it measures this project: a plain subscription to the bucket's
    changes, waiting for each run's terminal one (its CPU is not counted, as bench.e2e's is not;
    nats-server's work for it is, in both)."""
    import nats

    nc = await nats.connect(url)
    ended = 0
    all_ended = asyncio.get_running_loop().create_future()

    async def on_change(msg: Any) -> None:
        nonlocal ended
        if orjson.loads(msg.data)["status"] == "COMPLETED":
            ended += 1
            if ended == runs + IDLE_RUNS:
                all_ended.set_result(None)

    await nc.subscribe("$KV.floor_runs.>", cb=on_change)
    await nc.flush()
    ready.set()
    await asyncio.wait_for(all_ended, 900)
    await nc.close()
    return {}


_SIDES = {"gateway": _gateway_side, "worker": _worker_side, "observer": _observer_side}


def _side(name: str, url: str, runs: int, ready: Any, go: Any, loaded: Any, results: Any) -> None:
    import uvloop

    results.put((name, uvloop.run(_SIDES[name](url, runs, ready, go, loaded))))


def nats_floor(runs: int) -> dict[str, float]:
    """The gateway's and the worker's JetStream messages for `runs` runs, bare, at load."""
    context = multiprocessing.get_context("spawn")
    with fresh_nats() as server:
        url = server.url
        results = context.Queue()
        go, loaded = context.Event(), context.Event()
        readies = {name: context.Event() for name in _SIDES}
        processes = [
            context.Process(target=_side, args=(name, url, runs, ready, go, loaded, results))
            for name, ready in readies.items()
        ]
        for process in processes:
            process.start()
        for ready in readies.values():
            if not ready.wait(60):
                raise RuntimeError("a side of the NATS floor did not start")
        assert server.pid is not None
        nats_cpu = cpu_seconds(server.pid)
        go.set()
        if not loaded.wait(600):
            raise RuntimeError("the runs of the NATS floor did not end")
        nats_ms = (cpu_seconds(server.pid) - nats_cpu) * 1000 / runs
        got = dict(results.get(timeout=600) for _ in processes)
        for process in processes:
            process.join(30)
    return {
        "runs_per_s": got["gateway"]["runs_per_s"],
        "gateway_cpu_ms_per_run": got["gateway"]["cpu_ms_per_run"],
        "worker_cpu_ms_per_run": got["worker"]["cpu_ms_per_run"],
        "nats_server_cpu_ms_per_run": nats_ms,
        "idle_p50_ms": got["gateway"]["idle_p50_ms"],
        "idle_p99_ms": got["gateway"]["idle_p99_ms"],
    }
