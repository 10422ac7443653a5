"""End-to-end speed on both submit paths (the trivial flow by name as JSON, and the seed's
flow.yaml): idle submit-to-terminal latency and sustained runs/s, with a raw JetStream baseline
measured in the same run (this machine is shared and noisy; compare ratios).

    uv run python -m bench.e2e [--out FILE]    (default bench/results/e2e.json)

Terminal states are observed on the runs bucket's KV subject, the moment the worker stores them.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import RetentionPolicy, StreamConfig

from bench._http import Connection
from bench._results import write_result
from bench._stack import Stack, memory_mib, stack, tree_cpu_seconds
from bench.submits import JSON, PATHS, Submit

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
    """Times when runs reach a terminal state, from the KV subject of the runs bucket.

    With `stages` it also keeps, per run, when each status was first stored and when its job
    was published (the idle latency's breakdown).
    """

    def __init__(self, *, stages: bool = False) -> None:
        self.stages: dict[str, dict[str, float]] | None = {} if stages else None
        self.ended: dict[str, float] = {}
        self.statuses: dict[str, str] = {}
        self._waiters: dict[str, asyncio.Future[float]] = {}
        self._target = 0
        self._reached = asyncio.Event()

    async def on_message(self, msg: Msg) -> None:
        if not msg.data:
            return
        snapshot = json.loads(msg.data)
        now = time.perf_counter()
        if self.stages is not None:
            self.stages.setdefault(snapshot["run_id"], {}).setdefault(snapshot["status"], now)
        if snapshot["status"] in TERMINAL:
            run_id = snapshot["run_id"]
            self.ended[run_id] = now
            self.statuses[run_id] = snapshot["status"]
            waiter = self._waiters.pop(run_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)
            if self._target and len(self.ended) >= self._target:
                self._reached.set()

    async def on_job(self, msg: Msg) -> None:
        if self.stages is not None:
            run_id = json.loads(msg.data)["run_id"]
            self.stages.setdefault(run_id, {}).setdefault("job published", time.perf_counter())

    async def wait_count(self, count: int, timeout: float) -> None:
        """Wait until `count` runs ended."""
        self._target = count
        if len(self.ended) >= count:
            return
        await asyncio.wait_for(self._reached.wait(), timeout)

    async def wait(self, run_id: str, timeout: float = 30.0) -> float:
        if run_id in self.ended:
            return self.ended[run_id]
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[run_id] = waiter
        return await asyncio.wait_for(waiter, timeout)


async def watch_terminals(url: str, *, stages: bool = False) -> tuple[NATS, TerminalWatch]:
    nc = await nats.connect(url)
    watch = TerminalWatch(stages=stages)
    await nc.subscribe("$KV.pyoco_runs.>", cb=watch.on_message)
    if stages:
        await nc.subscribe("pyoco.work.>", cb=watch.on_job)
    return nc, watch


STAGES = ("PENDING", "job published", "response", "RUNNING", "COMPLETED")


async def idle_latency(
    deployment: Stack, runs: int, submit: Submit = JSON
) -> tuple[Latency, dict[str, float]]:
    """Submit one run at a time; time from sending the request to the terminal KV write.

    Also returns the median time from the request to each stage: the PENDING snapshot stored,
    the job published, the HTTP response read, RUNNING stored, COMPLETED stored.
    """
    nc, watch = await watch_terminals(deployment.nats_url, stages=True)
    assert watch.stages is not None
    connection = await Connection.open(deployment.gateway_url)
    samples = []
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for i in range(runs + 20):
        started = time.perf_counter()
        _, accepted = await connection.post(submit.path, submit.body, submit.content_type)
        responded = time.perf_counter()
        ended = await watch.wait(accepted["run_id"])
        if i >= 20:  # warm-up
            samples.append(ended - started)
            seen = {**watch.stages[accepted["run_id"]], "response": responded}
            for stage in STAGES:
                stages[stage].append(seen[stage] - started)
    await connection.close()
    await nc.close()
    medians = {stage: Latency.of(times).p50_ms for stage, times in stages.items()}
    return Latency.of(samples), medians


async def throughput(deployment: Stack, runs: int, concurrency: int) -> dict[str, float]:
    """Submit `runs` runs over `concurrency` connections; time until the last one ended."""
    nc, watch = await watch_terminals(deployment.nats_url)
    assert deployment.worker is not None
    connections = [await Connection.open(deployment.gateway_url) for _ in range(concurrency)]
    run_ids: list[str] = []
    remaining = iter(range(runs))

    async def submit(connection: Connection) -> None:
        for _ in remaining:
            status, accepted = await connection.post(JSON.path, JSON.body, JSON.content_type)
            assert status == 201, accepted
            run_ids.append(accepted["run_id"])

    worker_before = tree_cpu_seconds(deployment.worker.pid)
    gateway_before = tree_cpu_seconds(deployment.gateway.pid)
    nats_before = tree_cpu_seconds(deployment.nats_pid)
    own_before = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(submit(connection) for connection in connections))
    submitted = time.perf_counter()
    ends = [await watch.wait(run_id, timeout=300) for run_id in run_ids]
    finished = max(ends)
    worker_cpu = tree_cpu_seconds(deployment.worker.pid) - worker_before
    gateway_cpu = tree_cpu_seconds(deployment.gateway.pid) - gateway_before
    nats_cpu = tree_cpu_seconds(deployment.nats_pid) - nats_before
    own_cpu = time.process_time() - own_before
    for connection in connections:
        await connection.close()
    await nc.close()
    completed = sum(1 for run_id in run_ids if watch.statuses.get(run_id) == "COMPLETED")
    return {
        "runs": runs,
        "completed": completed,
        "submit_per_s": runs / (submitted - started),
        "runs_per_s": runs / (finished - started),
        "worker_cpu_ms_per_run": worker_cpu * 1000 / runs,
        "gateway_cpu_ms_per_run": gateway_cpu * 1000 / runs,
        "nats_cpu_ms_per_run": nats_cpu * 1000 / runs,
        "load_generator_cpu_ms_per_run": own_cpu * 1000 / runs,
    }


async def throughput_wrk(
    deployment: Stack, seconds: int, connections: int, submit: Submit = JSON
) -> dict[str, float]:
    """Submit with wrk (a C load generator, so the client does not eat the CPU it measures)
    for `seconds`; time from the first submit until every accepted run ended."""
    assert deployment.worker is not None
    pids = {name: [pid] for name, pid in _pids(deployment).items()}
    return await wrk_throughput(
        deployment.nats_url, deployment.gateway_url, pids, seconds, connections, submit
    )


async def wrk_throughput(
    nats_url: str,
    gateway_url: str,
    pids: Mapping[str, Sequence[int]],
    seconds: int,
    connections: int,
    submit: Submit = JSON,
) -> dict[str, float]:
    """wrk on `submit` for `seconds`; runs/s until every accepted run ended, and the CPU per
    run of each group of `pids` (each process with its descendants)."""
    nc, watch = await watch_terminals(nats_url.split(",")[0])
    script = _wrk_script(submit)
    cpu = {name: sum(map(tree_cpu_seconds, group)) for name, group in pids.items()}
    started = time.perf_counter()
    wrk = await asyncio.create_subprocess_exec(
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "-s",
        str(script),
        f"{gateway_url}{submit.path}",
        stdout=asyncio.subprocess.PIPE,
    )
    output = (await wrk.communicate())[0].decode()
    submitted = time.perf_counter()
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    await watch.wait_count(requests, timeout=300)
    finished = max(watch.ended.values())
    spent = {name: sum(map(tree_cpu_seconds, group)) - cpu[name] for name, group in pids.items()}
    await nc.close()
    completed = sum(1 for status in watch.statuses.values() if status == "COMPLETED")
    return {
        "runs": requests,
        "completed": completed,
        "submit_per_s": requests / (submitted - started),
        "runs_per_s": requests / (finished - started),
        **{f"{name}_cpu_ms_per_run": seconds * 1000 / requests for name, seconds in spent.items()},
    }


def _wrk_script(submit: Submit) -> Path:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(submit.wrk_script())
    return script


def _pids(deployment: Stack) -> dict[str, int]:
    assert deployment.worker is not None
    return {
        "worker": deployment.worker.pid,
        "gateway": deployment.gateway.pid,
        "nats": deployment.nats_pid,
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

    async def on_record(msg: Msg) -> None:
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
    latency_runs: int = 300,
    throughput_runs: int = 3000,
    concurrency: int = 64,
    worker_concurrency: int = 8,
) -> dict[str, object]:
    """Both paths on one deployment: idle latency, then sustained throughput."""
    result: dict[str, object] = {}
    with stack(worker_args=["--concurrency", str(worker_concurrency)]) as deployment:
        baseline = asyncio.run(raw_jetstream_latency(deployment.nats_url, latency_runs))
        result["raw_jetstream_latency_ms"] = vars(baseline)
        assert deployment.worker is not None
        result["memory_mib_at_start"] = memory_mib(deployment.gateway.pid, deployment.worker.pid)
        for name, submit in PATHS.items():
            idle, stages = asyncio.run(idle_latency(deployment, latency_runs, submit))
            if shutil.which("wrk"):
                sustained = asyncio.run(throughput_wrk(deployment, 5, 32, submit))
            elif submit is JSON:
                sustained = asyncio.run(throughput(deployment, throughput_runs, concurrency))
            else:
                sustained = {}
            result[name] = {
                "idle_submit_to_terminal_ms": vars(idle),
                "latency_ratio_p50_to_raw_jetstream": idle.p50_ms / baseline.p50_ms,
                "idle_stage_p50_ms_from_request": stages,
                "throughput": sustained,
            }
        result["memory_mib_after_load"] = memory_mib(deployment.gateway.pid, deployment.worker.pid)
    return result


if __name__ == "__main__":
    print(json.dumps(write_result("e2e", run()), indent=2))
