"""Driving an ASGI app in process, without a server or an HTTP client (for cost measurements)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from bench.submits import Submit


async def post(app: Any, path: str, body: bytes, content_type: str) -> int:
    """POST `body` to `app`; the response's status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"test"),
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    disconnected = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await disconnected.wait()
        return {"type": "http.disconnect"}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    disconnected.set()
    return statuses[0]


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Run `app`'s lifespan (start-up before, shut-down after)."""
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await incoming.put({"type": "lifespan.startup"})
    task = asyncio.create_task(
        app(
            {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
            incoming.get,
            outgoing.put,
        )
    )
    started = await asyncio.wait_for(outgoing.get(), 30)
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield
    finally:
        await incoming.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(task, 30)


async def cpu_per_request(
    app: Any, submits: Mapping[str, Submit], cycles: int, per_kind: int = 3
) -> dict[str, list[float]]:
    """This process's CPU seconds per request of each kind of submit, one value per cycle.

    A cycle sends `per_kind` requests of each kind in turn: a few milliseconds, short beside the
    tens to hundreds of milliseconds over which a shared machine's speed drifts (other tenants,
    caches, frequency), so the kinds of one cycle are measured on the same machine and their
    ratio is steady where longer rounds' are not. One cycle more is sent first, to warm up.
    """
    spent: dict[str, list[float]] = {kind: [] for kind in submits}
    for cycle in range(cycles + 1):
        for kind, submit in submits.items():
            started = time.process_time()
            for _ in range(per_kind):
                status = await post(app, submit.path, submit.body, submit.content_type)
                assert status == 201, (kind, status)
            if cycle:
                spent[kind].append((time.process_time() - started) / per_kind)
    return spent


def median_ratios(spent: Mapping[str, list[float]], baseline: str) -> dict[str, float]:
    """Each kind's median over the cycles of its cost over `baseline`'s in the same cycle.

    The median ignores the cycles a collection or a burst of other work landed in.
    """
    return {
        kind: statistics.median(
            cost / base for cost, base in zip(costs, spent[baseline], strict=True)
        )
        for kind, costs in spent.items()
    }
