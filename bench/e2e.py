"""End-to-end speed: idle submit-to-terminal latency and sustained runs/s, with a raw JetStream
baseline measured in the same run (this machine is shared and noisy; compare ratios).

Terminal states are observed on the runs bucket's KV subject, the moment the worker stores them.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import httpx
import nats
from nats.js.api import RetentionPolicy, StreamConfig

from bench._stack import Stack, stack, tree_cpu_seconds

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}


@dataclass
class Latency:
    p50_ms: float
    p90_ms: float
    p99_ms: float

    @classmethod
    def of(cls, samples: list[float]) -> Latency:
        ordered = sorted(samples)

        def pick(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

        return cls(pick(0.5), pick(0.9), pick(0.99))


class TerminalWatch:
    """Times when runs reach a terminal state, from the KV subject of the runs bucket."""

    def __init__(self) -> None:
        self.ended: dict[str, float] = {}
        self.statuses: dict[str, str] = {}
        self._waiters: dict[str, asyncio.Future[float]] = {}

    async def on_message(self, msg: nats.aio.msg.Msg) -> None:
        if not msg.data:
            return
        snapshot = json.loads(msg.data)
        if snapshot["status"] in TERMINAL:
            now = time.perf_counter()
            run_id = snapshot["run_id"]
            self.ended[run_id] = now
            self.statuses[run_id] = snapshot["status"]
            waiter = self._waiters.pop(run_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)

    async def wait(self, run_id: str, timeout: float = 30.0) -> float:
        if run_id in self.ended:
            return self.ended[run_id]
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[run_id] = waiter
        return await asyncio.wait_for(waiter, timeout)


async def _watch(url: str) -> tuple[nats.NATS, TerminalWatch]:
    nc = await nats.connect(url)
    watch = TerminalWatch()
    await nc.subscribe("$KV.pyoco_runs.>", cb=watch.on_message)
    return nc, watch


SUBMIT = {"flow_name": "trivial", "params": {"x": 1}}


async def idle_latency(deployment: Stack, runs: int) -> Latency:
    nc, watch = await _watch(deployment.nats_url)
    samples = []
    async with httpx.AsyncClient(base_url=deployment.gateway_url, timeout=30) as client:
        for i in range(runs + 20):
            started = time.perf_counter()
            response = await client.post("/runs", json=SUBMIT)
            ended = await watch.wait(response.json()["run_id"])
            if i >= 20:  # warm-up
                samples.append(ended - started)
    await nc.close()
    return Latency.of(samples)


async def throughput(deployment: Stack, runs: int, concurrency: int) -> dict[str, float]:
    nc, watch = await _watch(deployment.nats_url)
    assert deployment.worker is not None
    limit = asyncio.Semaphore(concurrency)
    run_ids: list[str] = []
    async with httpx.AsyncClient(
        base_url=deployment.gateway_url,
        timeout=60,
        limits=httpx.Limits(max_connections=concurrency),
    ) as client:

        async def submit() -> None:
            async with limit:
                response = await client.post("/runs", json=SUBMIT)
                run_ids.append(response.json()["run_id"])

        cpu_before = tree_cpu_seconds(deployment.worker.pid)
        gateway_before = tree_cpu_seconds(deployment.gateway.pid)
        started = time.perf_counter()
        await asyncio.gather(*(submit() for _ in range(runs)))
        submitted = time.perf_counter()
        ends = [await watch.wait(run_id, timeout=120) for run_id in run_ids]
        finished = max(ends)
        worker_cpu = tree_cpu_seconds(deployment.worker.pid) - cpu_before
        gateway_cpu = tree_cpu_seconds(deployment.gateway.pid) - gateway_before
    await nc.close()
    completed = sum(1 for run_id in run_ids if watch.statuses.get(run_id) == "COMPLETED")
    return {
        "runs": runs,
        "completed": completed,
        "submit_per_s": runs / (submitted - started),
        "runs_per_s": runs / (finished - started),
        "worker_cpu_ms_per_run": worker_cpu * 1000 / runs,
        "gateway_cpu_ms_per_run": gateway_cpu * 1000 / runs,
    }


async def raw_jetstream_latency(url: str, runs: int) -> Latency:
    """Baseline: publish a job, a pull consumer acks it and puts a KV record, a watcher sees it."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(
        StreamConfig(name="BENCH", subjects=["bench.work"], retention=RetentionPolicy.WORK_QUEUE)
    )
    kv = await js.create_key_value(bucket="bench_runs", history=1)
    subscription = await js.pull_subscribe("bench.work", durable="bench", stream="BENCH")
    seen: dict[str, asyncio.Future[float]] = {}

    async def on_record(msg: nats.aio.msg.Msg) -> None:
        key = msg.subject.rsplit(".", 1)[-1]
        if key in seen and not seen[key].done():
            seen[key].set_result(time.perf_counter())

    await nc.subscribe("$KV.bench_runs.>", cb=on_record)

    stopped = asyncio.Event()

    async def consume() -> None:
        while not stopped.is_set():  # not cancel(): nats-py may swallow it mid-publish
            try:
                messages = await subscription.fetch(1, timeout=1)
            except nats.errors.TimeoutError:
                continue
            for message in messages:
                await kv.put(message.data.decode(), b'{"status":"COMPLETED"}')
                await message.ack()

    consumer = asyncio.create_task(consume())
    samples = []
    for i in range(runs + 20):
        key = f"r{i}"
        seen[key] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        await js.publish("bench.work", key.encode())
        ended = await asyncio.wait_for(seen[key], 10)
        if i >= 20:
            samples.append(ended - started)
    stopped.set()
    await consumer
    await nc.close()
    return Latency.of(samples)


def run(
    latency_runs: int = 300, throughput_runs: int = 2000, concurrency: int = 64
) -> dict[str, object]:
    with stack() as deployment:
        baseline = asyncio.run(raw_jetstream_latency(deployment.nats_url, latency_runs))
        idle = asyncio.run(idle_latency(deployment, latency_runs))
        sustained = asyncio.run(throughput(deployment, throughput_runs, concurrency))
    return {
        "raw_jetstream_latency_ms": vars(baseline),
        "idle_submit_to_terminal_ms": vars(idle),
        "latency_ratio_p50": idle.p50_ms / baseline.p50_ms,
        "throughput": sustained,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
