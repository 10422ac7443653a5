"""The run index at scale: memory per stored run, first listing after a start (fresh and warm
cache), and GET /runs at 1,000 against 1,000,000 stored runs.

    uv run python -m bench.index_scale [SMALL] [LARGE]

For each count, snapshots are written straight into the runs bucket (bench/listing.py's
`fill`), then a gateway starts with an empty index cache directory (PYOCO_INDEX_DIR): the time
from launching it to its first listing is the fresh load; it answers `GET /runs?limit=50`
(plain, and filtered by a common and a rare status), its RSS is read, and it is restarted on
the same cache: that time to first listing is the warm start. Memory per run is the RSS
difference between the two gateways over the difference in runs. Results: bench/results/
index_scale.json.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._results import write_result
from bench._stack import stack
from bench.listing import CASES, fill, measure, rss_mb, wait_listing
from pyoco_server.local.natsserver import NatsServer


def _start(server: NatsServer, cache: Path) -> tuple[float, dict[str, Any], float]:
    """Launch a gateway on `cache`: (seconds to first listing, GET /runs latency, RSS MB)."""
    launched = time.perf_counter()
    with stack(worker=False, nats_server=server, extra_env={"PYOCO_INDEX_DIR": str(cache)}) as up:
        asyncio.run(wait_listing(up.gateway_url, timeout=1800.0))
        ready = time.perf_counter() - launched
        latency = asyncio.run(measure(up.gateway_url))
        memory = rss_mb(up.gateway.pid)
    return ready, latency, memory


def run_case(count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        server = NatsServer(Path(scratch) / "nats")
        server.start()
        try:
            filled = time.perf_counter()
            asyncio.run(fill(server.url, count))
            fill_s = time.perf_counter() - filled
            cache = Path(scratch) / "index"
            fresh_s, _, fresh_rss = _start(server, cache)
            warm_s, latency, warm_rss = _start(server, cache)
            cache_mb = sum(path.stat().st_size for path in cache.rglob("*")) / 2**20
        finally:
            server.stop()
    return {
        "runs": count,
        "fill_s": fill_s,
        "launch_to_listing_fresh_cache_s": fresh_s,
        "launch_to_listing_warm_cache_s": warm_s,
        "gateway_rss_mb_after_fresh_load": fresh_rss,
        "gateway_rss_mb_after_warm_start": warm_rss,
        "cache_file_mb": cache_mb,
        "get_runs_ms": latency,
    }


def main() -> None:
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    small = int(args[0]) if args else 1_000
    large = int(args[1]) if len(args) > 1 else 1_000_000
    results = [run_case(small), run_case(large)]
    more = large - small
    per_run = {
        key: (results[1][key] - results[0][key]) * 2**20 / more
        for key in ("gateway_rss_mb_after_fresh_load", "gateway_rss_mb_after_warm_start")
    }
    ratios = {
        name: results[1]["get_runs_ms"][name]["p50_ms"] / results[0]["get_runs_ms"][name]["p50_ms"]
        for name in CASES
    }
    document = write_result(
        "index_scale",
        {
            "small": results[0],
            "large": results[1],
            "rss_bytes_per_run": per_run,
            "p50_ratio_large_to_small": ratios,
        },
    )
    print(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
