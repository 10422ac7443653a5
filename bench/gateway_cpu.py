"""The gateway's CPU per submit, by path: JSON, the seed's flow.yaml and two of 50 tasks.

    uv run python -m bench.gateway_cpu [CYCLES] [--out FILE]

The result goes to bench/results/gateway_cpu.json unless `--out` names another file.

The gateway runs in this process on its own nats-server and is driven through ASGI directly, so
that no HTTP server's or client's CPU is counted: the process's CPU time per request, its NATS
client and run index included. One flow of 50 tasks calls the demo task, which the allowlist
takes by name; the other calls 50 functions of a module the gateway's PYOCO_TASK_MODULES lists,
as a user's flow does, which the allowlist judges by module. The kinds alternate in cycles of 3
requests each (bench/_asgi.py `cpu_per_request`); the median cost of each kind and the median of
the cycles' ratios to JSON are reported. The CI guard, tests/server/test_yaml_cost_guard.py,
checks the same ratios over fewer cycles (for the seed and the demo chain).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys

from bench._asgi import cpu_per_request, lifespan, median_ratios
from bench._results import write_result
from bench._stack import fresh_nats
from bench.submits import CHAIN, JSON, SEED, USER_CHAIN, USER_MODULE
from pyoco_server import heap
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway import create_app
from pyoco_server.jetstream import NatsBackend

KINDS = {
    "json": JSON,
    "flow.yaml (seed)": SEED,
    "flow.yaml (50 tasks)": CHAIN,
    "flow.yaml (50 tasks of a listed module)": USER_CHAIN,
}


async def measure(url: str, cycles: int) -> dict[str, list[float]]:
    settings = Settings.from_env(
        {
            "PYOCO_NATS_URL": url,
            "PYOCO_LOAD_DOTENV": "0",
            "PYOCO_LOG_LEVEL": "warning",
            "PYOCO_TASK_MODULES": USER_MODULE,
        }
    )
    app = create_app(settings, NatsBackend(settings, "bench-gateway-cpu"))
    heap.settle_after_startup()  # as the gateway's server does (gateway/app.py app_from_env)
    async with lifespan(app):
        return await cpu_per_request(app, KINDS, cycles)


def main() -> None:
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 600
    with fresh_nats() as server:
        spent = asyncio.run(measure(server.url, cycles))
    result = {
        "cycles": cycles,
        "cpu_ms_per_request": {
            kind: statistics.median(costs) * 1000 for kind, costs in spent.items()
        },
        "ratio_to_json": median_ratios(spent, "json"),
    }
    print(json.dumps(write_result("gateway_cpu", result), indent=2))


if __name__ == "__main__":
    main()
