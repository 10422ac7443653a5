"""What open run-list streams (`GET /runs/events`) cost the gateway: CPU per run change with
0, 1 and 10 streams open.

    uv run python -m bench.list_streams [CHANGES]

Changes are written straight into the runs bucket by this process (no HTTP), so the gateway's
CPU is its watch of the bucket, the run index, and the fan-out to the open streams. Each
stream is read by a thread of this process as a browser tab would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import threading
import time
from typing import Any

import httpx

from bench._stack import cpu_seconds, stack
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus
from pyoco_server.jetstream import NatsBackend


def _reader(url: str, counts: list[int], stop: threading.Event) -> None:
    with (
        httpx.Client(base_url=url, timeout=None) as client,
        client.stream("GET", "/runs/events", params={"timeout_sec": 600}) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("event: run"):
                counts[0] += 1
            if stop.is_set():
                return


async def _changes(settings: Settings, runs: int, rounds: int) -> None:
    backend = NatsBackend(settings, "bench-list-streams")
    await backend.start()
    assert await backend.wait_ready(10)
    now = time.time()
    stored: dict[str, tuple[RunSnapshot, int]] = {}
    for index in range(runs):
        snapshot = RunSnapshot(
            run_id=f"bench-{index}-{now}".replace(".", "-"),
            flow_name="bench",
            tag="default",
            tags=(),
            status=RunStatus.PENDING,
            params={},
            submitted_at=now,
            updated_at=now,
        )
        stored[snapshot.run_id] = (snapshot, await backend.runs.create(snapshot))
    for _ in range(rounds):
        for run_id, (snapshot, revision) in list(stored.items()):
            changed = dataclasses.replace(snapshot, updated_at=time.time())
            stored[run_id] = (changed, await backend.runs.update(changed, revision))
    await backend.close()


def measure(streams: int, changes: int, settings_env: dict[str, str], deployment: Any) -> float:
    """Gateway CPU (ms) per run change with `streams` open streams."""
    settings = Settings.from_env(settings_env)
    stop = threading.Event()
    counts = [[0] for _ in range(streams)]
    threads = [
        threading.Thread(target=_reader, args=(deployment.gateway_url, count, stop), daemon=True)
        for count in counts
    ]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # the streams are open (a benchmark, not a test: a settle time is fine)
    before = cpu_seconds(deployment.gateway.pid)
    runs = 100
    asyncio.run(_changes(settings, runs, changes // runs - 1))
    deadline = time.monotonic() + 60
    while any(count[0] < changes for count in counts) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    used = cpu_seconds(deployment.gateway.pid) - before
    stop.set()
    delivered = [count[0] for count in counts]
    print(
        f"  {streams:2d} streams: {used * 1000 / changes:.3f} ms CPU per change, delivered {delivered}"
    )
    return used * 1000 / changes


def main() -> None:
    changes = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    env = {"PYOCO_LOG_LEVEL": "warning", "PYOCO_SSE_HEARTBEAT_SEC": "15"}
    with stack(worker=False, extra_env=env) as deployment:
        settings_env = {"PYOCO_NATS_URL": deployment.nats_url, "PYOCO_LOAD_DOTENV": "0"}
        print(f"gateway CPU per run change ({changes} changes of 100 runs each time):")
        results = {n: measure(n, changes, settings_env, deployment) for n in (0, 1, 10)}
    base = results[0]
    print(
        f"  1 stream costs {results[1] - base:+.3f} ms/change over none; 10 streams {results[10] - base:+.3f}"
    )
    print(f"  10 streams / 1 stream: {results[10] / results[1]:.2f}x")


if __name__ == "__main__":
    main()
