"""The gateway's CPU per submit outside its handlers: with its shortcuts through Connexion's
layers, and without them, in one process.

    uv run python -m bench.framework [ROUNDS]

The gateway is built on its own nats-server with the submit handlers replaced by a stub that
answers at once, and driven through ASGI (no HTTP server or client counted): what is left is
the middleware stack, Connexion's layers, validation and the response. Three ways, alternating
in rounds of 1,000 submits of each kind (JSON, the seed's flow.yaml):

- `usual`: every request through Connexion's routing and its last four layers;
- `literal routes`: literal paths routed by `_routing.LiteralRoutes`;
- `literal routes + body lane`: and body-only operations handled by `_lane.BodyLane` (as shipped).

Prints the medians of the rounds in µs per submit and writes bench/results/framework.json.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from typing import Any

from bench._asgi import lifespan, post
from bench._results import write_result
from bench._stack import fresh_nats
from bench.submits import JSON, SEED
from pyoco_server import heap
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway import _lane, _routing, create_app
from pyoco_server.gateway.handlers.runs import RunsApi
from pyoco_server.gateway.responses import Reply, json_reply
from pyoco_server.jetstream import NatsBackend

PER_ROUND = 1000
KINDS = {"json": JSON, "flow.yaml (seed)": SEED}
_ANSWER = {"run_id": "0" * 32, "status": "PENDING", "tag": "default", "flow_name": "main"}


async def _answer_at_once(self: Any, body: Any) -> Reply:
    """`submit_run` answered at once; its signature is the handler's (the shortcuts read it)."""
    return json_reply({**_ANSWER, "warnings": []}, 201, Location="/runs/" + "0" * 32)


async def _answer_yaml_at_once(self: Any, body: Any, workflow: Any = None) -> Reply:
    """`submit_run_yaml` answered at once, with the handler's signature."""
    return json_reply({**_ANSWER, "warnings": []}, 201, Location="/runs/" + "0" * 32)


async def measure(url: str, rounds: int) -> dict[str, dict[str, float]]:
    settings = Settings.from_env(
        {"PYOCO_NATS_URL": url, "PYOCO_LOAD_DOTENV": "0", "PYOCO_LOG_LEVEL": "warning"}
    )
    RunsApi.submit_run = _answer_at_once  # type: ignore[method-assign]
    RunsApi.submit_run_yaml = _answer_yaml_at_once  # type: ignore[method-assign]
    app = create_app(settings, NatsBackend(settings, "bench-framework"))
    heap.settle_after_startup()
    async with lifespan(app):
        stack = app.middleware.middleware_stack
        literal = next(layer for layer in stack if isinstance(layer, _routing.LiteralRoutes))
        lane = next(layer for layer in stack if isinstance(layer, _lane.BodyLane))
        literal_operations, lane_of = literal.operations, lane._lane
        ways = {
            "usual": ({}, lambda scope: None),
            "literal routes": (literal_operations, lambda scope: None),
            "literal routes + body lane": (literal_operations, lane_of),
        }
        samples: dict[str, dict[str, list[float]]] = {way: {} for way in ways}
        for round_ in range(rounds + 1):
            for way, (operations, lanes) in ways.items():
                literal.operations, lane._lane = operations, lanes  # type: ignore[method-assign]
                for kind, submit in KINDS.items():
                    started = time.process_time()
                    for _ in range(PER_ROUND):
                        status = await post(app, submit.path, submit.body, submit.content_type)
                    if status != 201:
                        raise SystemExit(f"{way}, {kind}: answered {status}")
                    if round_:  # the first round warms up
                        cost = (time.process_time() - started) * 1e6 / PER_ROUND
                        samples[way].setdefault(kind, []).append(cost)
    return {
        way: {kind: statistics.median(costs) for kind, costs in by_kind.items()}
        for way, by_kind in samples.items()
    }


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with fresh_nats() as server:
        results = asyncio.run(measure(server.url, rounds))
    usual = results["usual"]
    for way, costs in results.items():
        print(
            f"{way:28s} "
            + ", ".join(
                f"{kind} {cost:6.1f} µs ({cost / usual[kind]:.2f})" for kind, cost in costs.items()
            )
        )
    write_result("framework", {"us_per_submit": results, "rounds": rounds})


if __name__ == "__main__":
    main()
