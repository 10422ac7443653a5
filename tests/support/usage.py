"""What a test process costs the gateway: its resident memory, and bodies that count themselves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx

MIB = 1024 * 1024

PROBLEM = "application/problem+json"


def rss_bytes(pid: int) -> int:
    """The resident set size of process `pid` (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


class CountingBody:
    """A request body streamed in chunks, counting what the client actually got to send."""

    def __init__(self, head: bytes, size: int, tail: bytes = b"", chunk: int = MIB) -> None:
        self.head = head
        self.size = size
        self.tail = tail
        self.chunk = chunk
        self.sent = 0

    @property
    def length(self) -> int:
        """The whole body's length (for a Content-Length header)."""
        return len(self.head) + self.size + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        block = b"x" * self.chunk
        while self.sent < self.size:
            part = block[: self.size - self.sent]
            self.sent += len(part)
            yield part
        yield self.tail


def problem(response: httpx.Response, status: int, reason: str) -> dict[str, object]:
    """The problem document of `response`, checked to have `status` and `reason`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, object] = response.json()
    assert (body["status"], body["reason"]) == (status, reason), body
    return body
