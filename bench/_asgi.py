"""Driving an ASGI app in process, without a server or an HTTP client (for cost measurements)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

BOUNDARY = "pyoco-test-boundary"


def multipart(fields: dict[str, str], file_field: str, file_name: str, content: bytes) -> bytes:
    """A multipart/form-data body (boundary `BOUNDARY`) as a browser sends it."""
    part = f"--{BOUNDARY}\r\nContent-Disposition: form-data; name="
    text = "".join(f'{part}"{name}"\r\n\r\n{value}\r\n' for name, value in fields.items())
    head = f'{part}"{file_field}"; filename="{file_name}"\r\nContent-Type: application/yaml\r\n\r\n'
    return (text + head).encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()


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
