"""The routing layers' CPU per request, the usual way and by `LiteralRoutes`, in one process.

    uv run python -m bench.routing [ROUNDS]

The gateway is built on its own nats-server; the layer after Connexion's routing (body limits)
is given a stub to call, so only the routing is measured: from the Swagger UI layer on (the
Swagger UI layer, `paths.LiteralPathMethods`, Connexion's routing) against from `LiteralRoutes`
on, 2,000 requests per round, alternating. Prints the median of the rounds in µs per request
for a few literal paths, and writes bench/results/routing.json.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._asgi import lifespan, post
from bench._results import write_result
from bench.submits import JSON
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway import _routing, create_app
from pyoco_server.gateway.limits import BodyLimitMiddleware
from pyoco_server.jetstream import NatsBackend
from pyoco_server.local.natsserver import NatsServer

PER_ROUND = 2000
REQUESTS = [("POST", "/runs"), ("POST", "/runs/yaml"), ("GET", "/runs"), ("GET", "/health")]


async def _stub(scope: Any, receive: Any, send: Any) -> None:
    pass


async def measure(url: str, rounds: int) -> dict[str, dict[str, float]]:
    settings = Settings.from_env(
        {"PYOCO_NATS_URL": url, "PYOCO_LOAD_DOTENV": "0", "PYOCO_LOG_LEVEL": "warning"}
    )
    app = create_app(settings, NatsBackend(settings, "bench-routing"))
    results: dict[str, dict[str, float]] = {}
    async with lifespan(app):
        await post(app, JSON.path, JSON.body, JSON.content_type)  # the stack is built
        stack = app.middleware.middleware_stack
        literal = next(layer for layer in stack if isinstance(layer, _routing.LiteralRoutes))
        body_limits = next(layer for layer in stack if isinstance(layer, BodyLimitMiddleware))
        body_limits.app = _stub
        entries = {"usual": literal.app, "literal": literal}
        for method, path in REQUESTS:
            scope = {
                "type": "http",
                "method": method,
                "path": path,
                "root_path": "",
                "query_string": b"",
                "headers": [(b"content-length", b"2")],
            }
            samples: dict[str, list[float]] = {name: [] for name in entries}
            for _ in range(rounds):
                for name, entry in entries.items():
                    started = time.process_time()
                    for _ in range(PER_ROUND):
                        await entry({**scope, "extensions": {}}, None, None)
                    samples[name].append((time.process_time() - started) * 1e6 / PER_ROUND)
            results[f"{method} {path}"] = {
                name: statistics.median(values) for name, values in samples.items()
            }
    return results


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    with tempfile.TemporaryDirectory() as scratch:
        server = NatsServer(Path(scratch))
        server.start()
        try:
            results = asyncio.run(measure(server.url, rounds))
        finally:
            server.stop()
    for request, costs in results.items():
        print(
            f"{request:18s} usual {costs['usual']:6.2f} µs, literal {costs['literal']:6.2f} µs "
            "per request (median of rounds, body-limit layer included in both)"
        )
    write_result("routing", {"us_per_request": results, "rounds": rounds})


if __name__ == "__main__":
    main()
