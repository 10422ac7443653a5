"""Scale-out on this machine: end-to-end runs/s with 1, 2 and 4 worker processes and 1 and 2
gateway processes, on one NATS server (replicas 1) and on a three-node cluster (replicas 3).

    uv run python -m bench.scale [SECONDS] [--out FILE]    (default bench/results/scale.json)

Every process shares this machine's cores (the cluster's three nodes too), so more processes
mostly compete for the same CPU: the figures show what each step costs here, and the CPU per
run of each kind of process, from which docs/operations.md sizes larger deployments. Load is
wrk submitting the JSON path (the trivial 2-task flow by name) on 32 connections for SECONDS
(default 5); a run counts when its terminal state is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nats

from bench._results import write_result
from bench._stack import ROOT, _wait_http, free_port
from bench.e2e import wrk_throughput
from bench.submits import JSON
from pyoco_server.local.cluster import NatsCluster, NodePorts
from pyoco_server.local.natsserver import NatsServer

WORKERS = (1, 2, 4)
GATEWAYS = (1, 2)
CONNECTIONS = 32


@contextlib.contextmanager
def nats_deployment(replicas: int, scratch: Path) -> Iterator[tuple[str, list[int]]]:
    """One server (replicas 1) or a three-node cluster; its URL and server PIDs."""
    if replicas == 1:
        with NatsServer(scratch / "nats") as server:
            assert server.pid is not None
            yield server.url, [server.pid]
        return
    with NatsCluster(scratch / "cluster", [NodePorts.free() for _ in range(3)]) as cluster:
        yield cluster.url, [node.pid for node in cluster.nodes if node.pid is not None]


@contextlib.contextmanager
def processes(
    url: str, replicas: int, gateways: int, workers: int, scratch: Path
) -> Iterator[tuple[str, list[int], list[int]]]:
    """A gateway of `gateways` processes and `workers` workers; its URL and their PIDs."""
    env = {
        **os.environ,
        "PYOCO_NATS_URL": url,
        "PYOCO_JS_REPLICAS": str(replicas),
        "PYOCO_LOAD_DOTENV": "0",
        "PYOCO_LOG_LEVEL": "warning",
        "PYOCO_INDEX_DIR": str(scratch / "index"),
    }
    port = free_port()
    log = (scratch / "processes.log").open("ab")
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", *args], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        started.append(process)
        return process

    try:
        gateway = start("pyoco_server.gateway", "--port", str(port), "--workers", str(gateways))
        gateway_url = f"http://127.0.0.1:{port}"
        _wait_http(f"{gateway_url}/health")
        worker_pids = [
            start(
                "pyoco_worker.cli",
                "--tags",
                "default",
                "--worker-id",
                f"w{index}",
                "--flow-resolver",
                "bench.flows:resolve",
            ).pid
            for index in range(workers)
        ]
        _wait_workers(gateway_url, workers)
        yield gateway_url, [gateway.pid], worker_pids
    finally:
        for process in reversed(started):
            process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def _wait_workers(gateway_url: str, count: int, timeout: float = 60.0) -> None:
    """Wait until `count` workers are registered (each one binds its consumer first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        url = f"{gateway_url}/workers?state=IDLE"
        with (
            contextlib.suppress(OSError, ValueError),
            urllib.request.urlopen(url, timeout=2) as page,
        ):
            if len(json.load(page)["items"]) >= count:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{count} workers did not register within {timeout:g}s")


async def sustained(
    nats_url: str, gateway_url: str, pids: dict[str, list[int]], seconds: int
) -> dict[str, float]:
    """wrk on the JSON path for `seconds`; runs/s, CPU per run, the runs bucket's bytes per run."""
    figures = await wrk_throughput(nats_url, gateway_url, pids, seconds, CONNECTIONS, JSON)
    nc = await nats.connect(servers=nats_url.split(","))
    try:
        runs_bucket = await nc.jetstream().stream_info("KV_pyoco_runs")
    finally:
        await nc.close()
    return {**figures, "runs_bucket_bytes_per_run": runs_bucket.state.bytes / figures["runs"]}


def run(seconds: int) -> dict[str, object]:
    """Every combination; runs/s also as a ratio to one gateway and one worker on replicas 1."""
    rows: list[dict[str, float]] = []
    for replicas in (1, 3):
        for gateways in GATEWAYS:
            for workers in WORKERS:
                # A fresh NATS each time: no run of an earlier combination ends in this one.
                with (
                    tempfile.TemporaryDirectory() as directory,
                    nats_deployment(replicas, Path(directory)) as (url, nats_pids),
                    processes(url, replicas, gateways, workers, Path(directory)) as (
                        gateway_url,
                        gateway_pids,
                        worker_pids,
                    ),
                ):
                    pids = {"gateway": gateway_pids, "worker": worker_pids, "nats": nats_pids}
                    figures = asyncio.run(sustained(url, gateway_url, pids, seconds))
                row: dict[str, float] = {"replicas": replicas, "gateways": gateways}
                row["workers"] = workers
                rows.append({**row, **figures})
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    base = rows[0]["runs_per_s"]
    for row in rows:
        row["ratio_to_1_gateway_1_worker_r1"] = row["runs_per_s"] / base
    return {"seconds": seconds, "connections": CONNECTIONS, "rows": rows}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seconds", nargs="?", type=int, default=5)
    parser.add_argument("--out", default="scale")
    options = parser.parse_args()
    print(json.dumps(write_result(options.out, run(options.seconds)), indent=2))
