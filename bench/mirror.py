"""The gateway's CPU per run for following the runs bucket: the run index, the run list's event
feed and the metrics history, fed by the bucket's changes as under load.

    uv run python -m bench.mirror [RUNS] [ROUNDS] [--instructions]

Under sustained load the gateway spends about as much CPU on the changes of the runs it
submitted (PENDING, RUNNING, COMPLETED, each one delivered to its watch of the bucket) as on
the submits themselves. This measures that part alone, in this process: a `RunView` on its own
nats-server follows the runs bucket, with the listeners the gateway gives it, while another
process writes RUNS runs (5,000 unless told) into the bucket as a worker and gateways would:
each run created PENDING, then updated RUNNING and COMPLETED by compare-and-set, 32 runs
written at once, with a backlog of 1,024 runs created between a run's creation and its start
and between its start and its end (so that, as under sustained load with a queue, a run's three
changes land in different commits of the index). This process's CPU from the first write to the last change applied and committed,
over the runs, is the cost per run; its nats client's reading of the changes is counted, the
writes are not (another process makes them). ROUNDS rounds (5 unless told) write new runs into
the same bucket and index; the median round is reported. Results: bench/results/mirror.json.

CPU time on a shared machine moves by tens of percent from one minute to the next. With
`--instructions` the benchmark counts instructions instead, which do not: it runs itself under
valgrind's callgrind (`apt-get install valgrind`; about a minute and a half for 3,000 runs) with
RUNS runs and with none, and reports the difference per run (bench/results/
mirror_instructions.json). Comparing two versions of the code that way takes one run of each.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import nats
import orjson

from bench._results import write_result
from bench._stack import ROOT, fresh_nats
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway.runview import RunView
from pyoco_server.jetstream import NatsBackend
from pyoco_server.services.index import Summary
from pyoco_server.services.throughput import Throughput

IN_FLIGHT = 32
"""Runs written at once (creates, and updates of others)."""
BACKLOG = 32 * IN_FLIGHT
"""Runs created between a run's creation and its start, and between its start and its end
(a multiple of `IN_FLIGHT`)."""


def _settings(url: str) -> Settings:
    return Settings.from_env(
        {"PYOCO_NATS_URL": url, "PYOCO_LOAD_DOTENV": "0", "PYOCO_LOG_LEVEL": "warning"}
    )


def record(run_id: str, status: str, submitted_at: float, now: float) -> bytes:
    """A run's snapshot as the gateway and a worker store it (a trivial 2-task flow)."""
    started = status != "PENDING"
    ended = status == "COMPLETED"
    tasks = {"to_text": "SUCCEEDED", "add_one": "SUCCEEDED"} if ended else {}
    task_records = (
        {
            name: {
                "state": "SUCCEEDED",
                "started_at": now,
                "ended_at": now,
                "duration_ms": 0.05,
                "error": None,
                "traceback": None,
                "inputs": {"x": 1},
                "output": 2,
                "output_converted": False,
            }
            for name in tasks
        }
        if ended
        else {}
    )
    attempts = (
        [
            {
                "attempt": 1,
                "worker_id": "bench",
                "started_at": now,
                "status": status,
                "ended_at": now if ended else None,
                "error": None,
                "error_reason": None,
            }
        ]
        if started
        else []
    )
    return orjson.dumps(
        {
            "run_id": run_id,
            "flow_name": "trivial",
            "tag": "default",
            "tags": ["default"],
            "status": status,
            "params": {"x": 1},
            "submitted_at": submitted_at,
            "updated_at": now,
            "tasks": tasks,
            "task_records": task_records,
            "task_records_truncated": False,
            "tenant_id": "default",
            "api_key_id": None,
            "worker_id": "bench" if started else None,
            "attempt": 1 if started else 0,
            "start_time": now if started else None,
            "end_time": now if ended else None,
            "heartbeat_at": now,
            "error": None,
            "error_reason": None,
            "workflow_yaml_sha256": None,
            "workflow_yaml_bytes": None,
            "timeout_sec": None,
            "attempts": attempts,
            "next_attempt_at": None,
            "cancel_requested_at": None,
            "cancel_requested_by": None,
            "cancel_reason": None,
            "job_seq": 1,
            "code": [],
        }
    )


async def write(url: str, prefix: str, runs: int) -> None:
    """Write `runs` runs, `IN_FLIGHT` at a time: PENDING, RUNNING, COMPLETED (`BACKLOG` apart)."""
    client = await nats.connect(url)
    kv = await client.jetstream().key_value(_settings(url).runs_kv_bucket)
    revisions: dict[str, int] = {}
    submitted: dict[str, float] = {}

    async def create(run_id: str) -> None:
        submitted[run_id] = now = time.time()
        revisions[run_id] = await kv.create(run_id, record(run_id, "PENDING", now, now))

    async def update(run_id: str, status: str) -> None:
        value = record(run_id, status, submitted[run_id], time.time())
        revisions[run_id] = await kv.update(run_id, value, last=revisions[run_id])

    ids = [f"{prefix}-{n:07d}" for n in range(runs)]
    for step in range(0, runs + 2 * BACKLOG, IN_FLIGHT):
        writes = [create(run_id) for run_id in ids[step : step + IN_FLIGHT]]
        if step >= BACKLOG:
            running = ids[step - BACKLOG : step - BACKLOG + IN_FLIGHT]
            writes += [update(run_id, "RUNNING") for run_id in running]
        if step >= 2 * BACKLOG:
            ended = ids[step - 2 * BACKLOG : step - 2 * BACKLOG + IN_FLIGHT]
            writes += [update(run_id, "COMPLETED") for run_id in ended]
        await asyncio.gather(*writes)
    await client.close()


async def measure(url: str, runs: int, rounds: int) -> list[float]:
    """CPU seconds per run of each round."""
    backend = NatsBackend(_settings(url), "bench-mirror")
    await backend.start()
    assert await backend.wait_ready(30), "nats-server did not answer"
    view = RunView(backend)
    view.listen(Throughput(ready=lambda: view.loaded).changed)  # as the gateway (gateway/app.py)
    view.start()
    assert await view.wait_loaded(30), "the run index did not load"
    ended = 0
    goal = asyncio.Event()
    target = 0

    def count(before: Summary | None, after: Summary | None, _revision: int) -> None:
        nonlocal ended
        if after is not None and after.status == "COMPLETED" and before != after:
            ended += 1
            if ended >= target:
                goal.set()

    view.listen(count)
    spent = []
    for round_ in range(rounds):
        target = (round_ + 1) * runs
        goal.clear()
        started = time.process_time()
        writer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.mirror", "--write", url, f"r{round_}", str(runs), cwd=ROOT
        )
        if runs:
            await asyncio.wait_for(goal.wait(), 600)
        view.index.commit()  # what the commit timer would do next
        spent.append((time.process_time() - started) / max(runs, 1))
        assert await writer.wait() == 0, "the writer failed"
    await view.stop()
    await backend.close()
    return spent


def instructions(runs: int) -> float:
    """Instructions per run, counted by valgrind: this benchmark run with `runs` runs and with
    none (start-up and shut-down alone), in one round each; the difference over `runs`."""
    counts = []
    for count in (0, runs):
        with tempfile.TemporaryDirectory() as scratch:
            command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/out"]
            command += [sys.executable, "-m", "bench.mirror", str(count), "1"]
            command += ["--out", f"{scratch}/result.json"]
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        found = re.search(r"Collected : (\d+)", done.stderr)
        assert found, done.stderr[-2000:]
        counts.append(int(found.group(1)))
    return (counts[1] - counts[0]) / runs


def main() -> None:
    if sys.argv[1:2] == ["--write"]:
        asyncio.run(write(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        return
    numbers = [int(arg) for arg in sys.argv[1:] if arg.isdigit()]
    runs = numbers[0] if numbers else 5000
    rounds = numbers[1] if len(numbers) > 1 else 5
    if "--instructions" in sys.argv:
        per_run = instructions(runs)
        result: dict[str, Any] = {
            "runs": runs,
            "instructions_per_run": round(per_run),
            "instructions_per_change": round(per_run / 3),
        }
        print(json.dumps(write_result("mirror_instructions", result), indent=2))
        return
    with fresh_nats() as server:
        spent = asyncio.run(measure(server.url, runs, rounds))
    per_run_us = [seconds * 1e6 for seconds in spent]
    result = {
        "runs_per_round": runs,
        "rounds": rounds,
        "cpu_us_per_run": statistics.median(per_run_us),
        "cpu_us_per_change": statistics.median(per_run_us) / 3,
        "rounds_cpu_us_per_run": [round(value, 1) for value in per_run_us],
    }
    print(json.dumps(write_result("mirror", result), indent=2))


if __name__ == "__main__":
    main()
