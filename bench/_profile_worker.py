"""Measure (and with --profile, profile) one worker draining pre-queued runs.

    uv run python -m bench._profile_worker [RUNS] [CONCURRENCY] [--uvloop] [--profile [SORT [ROWS]]]

Runs are queued first (no gateway), so the numbers are the worker's alone: runs/s, the
supervisor's CPU per run and its run processes' CPU per run.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

import nats
import nats.js.errors

from bench._stack import tree_cpu_seconds
from pyoco_server import heap
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.subjects import Subjects
from pyoco_server.jetstream import NatsBackend
from pyoco_server.local.natsserver import NatsServer
from pyoco_server.services.runs import RunService, Submission
from pyoco_worker.child import ChildConfig
from pyoco_worker.pool import ProcessPool
from pyoco_worker.worker import Worker

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
CONCURRENCY = int(sys.argv[2]) if len(sys.argv) > 2 else 2
PROFILE = "--profile" in sys.argv


async def enqueue(settings: Settings) -> None:
    backend = NatsBackend(settings, "bench")
    await backend.start()
    await backend.wait_ready(10)
    service = RunService(backend.runs, backend.jobs, settings)
    limit = asyncio.Semaphore(64)

    async def one() -> None:
        async with limit:
            await service.submit(Submission("trivial", {"x": 1}))

    await asyncio.gather(*(one() for _ in range(RUNS)))
    await backend.close()


async def drain(
    settings: Settings, profile: cProfile.Profile
) -> tuple[float, tuple[float, float], float]:
    nc = await nats.connect(settings.nats_url)
    jsm = nc.jsm()
    consumer = Subjects.from_settings(settings).consumer("default")

    async def all_acked() -> None:
        """Until every queued job is acked (its run stored as ended, then the job acked).

        Polled (one request every 10 ms) rather than by watching the runs bucket: a watcher in
        this process would add its own CPU, a message per snapshot write, to the supervisor's.
        """
        while True:
            try:
                info = await jsm.consumer_info(settings.work_stream, consumer)
            except nats.js.errors.NotFoundError:  # the worker has not made it yet
                info = None
            if info is not None and info.num_pending == 0 and info.num_ack_pending == 0:
                return
            await asyncio.sleep(0.01)

    async def completed() -> int:
        """How many runs ended COMPLETED (read once the measurement is over)."""
        kv = await nc.jetstream().key_value(settings.runs_kv_bucket)
        entries = await asyncio.gather(*(kv.get(key) for key in await kv.keys()))
        return sum(
            json.loads(entry.value or b"{}").get("status") == "COMPLETED" for entry in entries
        )

    pool = ProcessPool(CONCURRENCY, config=ChildConfig(resolver_spec="bench.flows:resolve"))
    stop = asyncio.Event()
    worker = Worker(
        NatsBackend(settings, "bench-worker"),
        worker_id="p",
        tags=["default"],
        executor=pool,
        concurrency=CONCURRENCY,
    )
    task = asyncio.create_task(worker.run(stop))
    # The pool offers no event for "all started"; a bench may poll.
    while not pool._all or len(pool._idle) < CONCURRENCY:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    children = [child.pid for child in pool._all]
    child_before = sum(tree_cpu_seconds(pid) for pid in children)
    started = time.perf_counter()
    cpu_before = os.times()
    print("measuring", file=sys.stderr, flush=True)  # bench.spy starts sampling here
    if PROFILE:
        profile.enable()
    await all_acked()
    if PROFILE:
        profile.disable()
    elapsed = time.perf_counter() - started
    cpu_after = os.times()
    parent = (cpu_after.user - cpu_before.user, cpu_after.system - cpu_before.system)
    child = sum(tree_cpu_seconds(pid) for pid in children) - child_before
    stop.set()
    await task
    done = await completed()
    if done != RUNS:
        raise SystemExit(f"only {done} of {RUNS} runs completed")
    await nc.close()
    return elapsed, parent, child


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        server = NatsServer(Path(scratch))
        server.start()
        settings = Settings.from_env(
            {"PYOCO_NATS_URL": server.url, "PYOCO_LOAD_DOTENV": "0", "PYOCO_LOG_LEVEL": "warning"}
        )
        asyncio.run(enqueue(settings))
        profile = cProfile.Profile(time.process_time)
        runner = __import__("uvloop").run if "--uvloop" in sys.argv else asyncio.run
        heap.settle_after_startup()  # as the worker's command does (pyoco_worker/service.py)
        elapsed, parent, child = runner(drain(settings, profile))
        server.stop()
    print(
        f"{RUNS / elapsed:.0f} runs/s; supervisor {sum(parent) * 1000 / RUNS:.2f} ms/run "
        f"({parent[0] * 1000 / RUNS:.2f} user, {parent[1] * 1000 / RUNS:.2f} system), "
        f"children {child * 1000 / RUNS:.2f} ms/run"
    )
    if PROFILE:
        options = sys.argv[sys.argv.index("--profile") + 1 :]
        restriction: int | str = options[1] if len(options) > 1 else 40
        if isinstance(restriction, str) and restriction.isdigit():
            restriction = int(restriction)
        order = options[0] if options else "tottime"
        pstats.Stats(profile).sort_stats(order).print_stats(restriction)


if __name__ == "__main__":
    main()
