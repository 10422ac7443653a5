"""The gateway's CPU per submit, by path: JSON, the seed's flow.yaml and one of 50 tasks.

    uv run python -m bench.gateway_cpu [ROUNDS] [--out FILE]

The result goes to bench/results/gateway_cpu.json unless `--out` names another file.

The gateway runs in this process on its own nats-server and is driven through ASGI directly, so
that no HTTP server's or client's CPU is counted: the process's CPU time per request, its NATS
client and run index included. The kinds alternate in rounds of 200 requests; the medians, the
least rounds and their ratios to JSON are reported (the CI guard,
tests/server/test_yaml_cost_guard.py, checks the ratio of the least rounds, with fewer requests).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time

from bench._asgi import lifespan, post
from bench._results import write_result
from bench._stack import fresh_nats
from bench.submits import CHAIN, JSON, SEED
from pyoco_server import heap
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway import create_app
from pyoco_server.jetstream import NatsBackend

PER_ROUND = 200
KINDS = {"json": JSON, "flow.yaml (seed)": SEED, "flow.yaml (50 tasks)": CHAIN}


async def measure(url: str, rounds: int) -> dict[str, list[float]]:
    settings = Settings.from_env(
        {"PYOCO_NATS_URL": url, "PYOCO_LOAD_DOTENV": "0", "PYOCO_LOG_LEVEL": "warning"}
    )
    app = create_app(settings, NatsBackend(settings, "bench-gateway-cpu"))
    heap.settle_after_startup()  # as the gateway's server does (gateway/app.py app_from_env)
    samples: dict[str, list[float]] = {kind: [] for kind in KINDS}
    async with lifespan(app):
        for round_ in range(rounds + 1):
            for kind, submit in KINDS.items():
                started = time.process_time()
                for _ in range(PER_ROUND):
                    await post(app, submit.path, submit.body, submit.content_type)
                if round_:  # the first round warms up
                    samples[kind].append((time.process_time() - started) * 1000 / PER_ROUND)
    return samples


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 7
    with fresh_nats() as server:
        samples = asyncio.run(measure(server.url, rounds))
    medians = {kind: statistics.median(values) for kind, values in samples.items()}
    least = {kind: min(values) for kind, values in samples.items()}
    result = {
        "cpu_ms_per_request": medians,
        "ratio_to_json": {kind: cost / medians["json"] for kind, cost in medians.items()},
        "least_cpu_ms_per_request": least,
        "least_ratio_to_json": {kind: cost / least["json"] for kind, cost in least.items()},
        "rounds": samples,
    }
    print(json.dumps(write_result("gateway_cpu", result), indent=2))


if __name__ == "__main__":
    main()
