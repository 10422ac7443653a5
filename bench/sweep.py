"""Throughput and submit-to-terminal latency against offered load, on both submit paths.

    uv run python -m bench.sweep [SECONDS] [--out FILE]   (default bench/results/sweep.json)

Offered load is a number of concurrent clients (1 to 64), each submitting one run and waiting
for it to end before submitting the next (a closed loop), for SECONDS (default 4) per point.
One gateway and one worker (`--concurrency 8`), as in bench.e2e. The plot in docs/images is
drawn from the result by `python -m bench.plot`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from bench._http import Connection
from bench._results import write_result
from bench._stack import Stack, stack
from bench.e2e import Latency, watch_terminals
from bench.submits import PATHS, Submit

CLIENTS = (1, 2, 4, 8, 16, 32, 64)


async def closed_loop(
    deployment: Stack, submit: Submit, clients: int, seconds: float
) -> dict[str, float]:
    """`clients` clients submitting back to back for `seconds`: runs/s and latency."""
    nc, watch = await watch_terminals(deployment.nats_url)
    connections = [await Connection.open(deployment.gateway_url) for _ in range(clients)]
    samples: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(connection: Connection) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, accepted = await connection.post(submit.path, submit.body, submit.content_type)
            assert status in (200, 201), accepted  # the original answers 200
            samples.append(await watch.wait(accepted["run_id"], timeout=60) - started)

    started = time.perf_counter()
    await asyncio.gather(*(client(connection) for connection in connections))
    elapsed = time.perf_counter() - started
    for connection in connections:
        await connection.close()
    await nc.close()
    latency = Latency.of(samples)
    return {
        "clients": clients,
        "runs": len(samples),
        "runs_per_s": len(samples) / elapsed,
        "p50_ms": latency.p50_ms,
        "p99_ms": latency.p99_ms,
    }


def run(seconds: float) -> dict[str, object]:
    """Every path at every offered load, on one deployment (after a warm-up)."""
    curves: dict[str, list[dict[str, float]]] = {name: [] for name in PATHS}
    with stack(worker_args=["--concurrency", "8"]) as deployment:
        for submit in PATHS.values():
            asyncio.run(closed_loop(deployment, submit, 8, 1.0))  # warm-up
        for clients in CLIENTS:  # the paths alternate at each load: both see the same noise
            for name, submit in PATHS.items():
                point = asyncio.run(closed_loop(deployment, submit, clients, seconds))
                curves[name].append(point)
                print(name, json.dumps(point), file=sys.stderr)
    return {"seconds_per_point": seconds, "worker_concurrency": 8, "curves": curves}


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "--out" else 4.0
    print(json.dumps(write_result("sweep", run(seconds)), indent=2))
