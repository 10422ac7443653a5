"""A queue of runs waiting for workers: the gateway's memory while it holds them, then the drain.

    uv run python -m bench.backlog [SECONDS]

With no worker running, wrk submits for SECONDS (8 unless told) on each path, JSON by name and
the seed's flow.yaml, as `bench.gateway` sends them (32 connections, one gateway process); the
runs stay PENDING. Then one worker (default settings) starts and runs them all. Measured: the
runs queued, the gateway's RSS before and after the submits and its growth per queued run, the
drain's runs/s (from the worker's start, its start-up included), the gateway's CPU per run
during the drain (each run's RUNNING and COMPLETED changes, for runs its index may have to read
back from its file), and the worker supervisor's RSS after its start and after the drain.
The gateway's RSS grows at first with its index's page cache (bounded, 16 MB) and the summaries
of runs not ended it keeps (at most `services.index.LIVE_RUNS`), then no more: compare two
lengths. Writes bench/results/backlog.json.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

from bench._results import write_result
from bench._stack import ROOT, cpu_seconds, stack, worker_command
from bench.gateway import wrk
from bench.listing import rss_mb
from bench.submits import JSON, SEED

DRAIN_TIMEOUT_SEC = 900.0
WORKER_START_SEC = 3.0
"""How long the worker is given to start before its RSS is read."""


def counts(url: str) -> dict[str, float]:
    """The runs by status, from the gateway's metrics (`pyoco_runs`)."""
    with urllib.request.urlopen(f"{url}/metrics") as response:
        text = response.read().decode()
    found: dict[str, float] = {}
    for match in re.finditer(r'^pyoco_runs\{[^}]*status="(\w+)"[^}]*\} (\S+)$', text, re.M):
        found[match.group(1)] = found.get(match.group(1), 0.0) + float(match.group(2))
    return found


def main(seconds: int) -> None:
    with stack(worker=False) as deployment:
        url, gateway = deployment.gateway_url, deployment.gateway.pid
        idle = rss_mb(gateway)
        for submit in (JSON, SEED):
            wrk(url + submit.path, seconds, submit.wrk_script())
        time.sleep(1.0)  # the last runs' PENDING changes reach the index
        queued = counts(url).get("PENDING", 0.0)
        held = rss_mb(gateway)
        print(f"{queued:.0f} runs queued; gateway RSS {idle:.1f} -> {held:.1f} MiB", flush=True)
        env = {
            **os.environ,
            "PYOCO_NATS_URL": deployment.nats_url,
            "PYOCO_LOAD_DOTENV": "0",
            "PYOCO_LOG_LEVEL": "warning",
        }
        cpu, started = cpu_seconds(gateway), time.monotonic()
        worker = subprocess.Popen(
            worker_command(),
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            time.sleep(WORKER_START_SEC)
            worker_started = rss_mb(worker.pid)
            deadline = started + DRAIN_TIMEOUT_SEC
            while counts(url).get("COMPLETED", 0.0) < queued:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the queue did not drain: {counts(url)}")
                time.sleep(0.5)
            drained = time.monotonic() - started
            gateway_cpu = cpu_seconds(gateway) - cpu
            worker_drained = rss_mb(worker.pid)
        finally:
            worker.terminate()
            worker.wait(60)
        result = {
            "submit_seconds_per_path": seconds,
            "runs_queued": int(queued),
            "gateway_rss_mib": {"idle": idle, "queue_held": held, "after_drain": rss_mb(gateway)},
            "gateway_rss_bytes_per_queued_run": (held - idle) * 2**20 / queued,
            "drain_runs_per_s": queued / drained,
            "gateway_cpu_ms_per_run_in_drain": gateway_cpu * 1000 / queued,
            "worker_supervisor_rss_mib": {"started": worker_started, "drained": worker_drained},
        }
        print(json.dumps(write_result("backlog", result), indent=2))


if __name__ == "__main__":
    numbers = [int(arg) for arg in sys.argv[1:] if arg.isdigit()]
    main(numbers[0] if numbers else 8)
