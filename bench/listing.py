"""GET /runs cost with 1,000 and with 100,000 stored runs: it should not grow with the store.

    uv run python -m bench.listing [SMALL] [LARGE]

Snapshots are written straight into the runs bucket (faster than submitting them), then a
gateway starts, loads its index from the bucket, and answers `GET /runs?limit=50` (plain, and
filtered by a common and by a rare status) for a few hundred sequential requests. Reported:
latency percentiles per case, the large/small p50 ratio, the time from launching the gateway to
its first listing (process start plus index load) and the gateway's memory.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import nats

from bench._http import Connection
from bench._stack import stack
from bench.e2e import Latency
from pyoco_server.domain.codec import encode_snapshot
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus
from pyoco_server.jetstream import ensure_resources
from pyoco_server.local.natsserver import NatsServer

CASES = {
    "all": "/runs?limit=50",
    "status=COMPLETED (85%)": "/runs?limit=50&status=COMPLETED",
    "status=FAILED (5%)": "/runs?limit=50&status=FAILED",
}
REQUESTS = 300


def _snapshot(i: int) -> bytes:
    status = RunStatus.FAILED if i % 20 == 0 else RunStatus.COMPLETED
    if i % 10 == 5:
        status = RunStatus.PENDING
    now = 1_700_000_000.0 + i
    snapshot = RunSnapshot(
        run_id=str(uuid.uuid4()),
        flow_name="main",
        tag="default",
        tags=("default",),
        status=status,
        params={"x": i},
        submitted_at=now,
        updated_at=now,
    )
    return encode_snapshot(snapshot)


async def fill(url: str, count: int) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_resources(js, Settings.from_env({"PYOCO_NATS_URL": url}))
    for start in range(0, count, 2000):
        futures = [
            await js.publish_async(f"$KV.pyoco_runs.{uuid.uuid4()}", _snapshot(i))
            for i in range(start, min(count, start + 2000))
        ]
        await asyncio.gather(*futures)
    await nc.close()


async def measure(gateway_url: str) -> dict[str, dict[str, float]]:
    connection = await Connection.open(gateway_url)
    results = {}
    for name, path in CASES.items():
        samples = []
        for i in range(REQUESTS + 20):
            started = time.perf_counter()
            status, page = await connection.get_json(path)
            assert status == 200, page
            if i >= 20:
                samples.append(time.perf_counter() - started)
        results[name] = vars(Latency.of(samples))
    await connection.close()
    return results


async def wait_listing(gateway_url: str, timeout: float = 300.0) -> None:
    """Wait until `GET /runs` answers 200 (503 while the index loads)."""
    connection = await Connection.open(gateway_url)
    deadline = time.monotonic() + timeout
    try:
        while (await connection.get_json("/runs?limit=1"))[0] != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the run index did not load in time")
            await asyncio.sleep(0.01)
    finally:
        await connection.close()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_case(count: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as scratch:
        server = NatsServer(Path(scratch))
        server.start()
        try:
            asyncio.run(fill(server.url, count))
            launched = time.perf_counter()
            with stack(worker=False, nats_server=server) as deployment:
                asyncio.run(wait_listing(deployment.gateway_url))
                ready = time.perf_counter() - launched
                latency = asyncio.run(measure(deployment.gateway_url))
                memory = rss_mb(deployment.gateway.pid)
        finally:
            server.stop()
    return {
        "runs": count,
        "launch_to_listing_s": ready,
        "gateway_rss_mb": memory,
        "get_runs_ms": latency,
    }


def main() -> None:
    small = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000
    large = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    results = [run_case(small), run_case(large)]
    ratios = {
        name: results[1]["get_runs_ms"][name]["p50_ms"] / results[0]["get_runs_ms"][name]["p50_ms"]  # type: ignore[index]
        for name in CASES
    }
    print(
        json.dumps(
            {"small": results[0], "large": results[1], "p50_ratio_large_to_small": ratios}, indent=2
        )
    )


if __name__ == "__main__":
    main()
