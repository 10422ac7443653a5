"""Waiting on conditions with timeouts (tests never sleep a fixed time)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
"""The statuses a run ends in."""


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, what: str = "") -> object:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(0.01)


def wait_terminal(client: httpx.Client, run_id: str, timeout: float = 30.0) -> dict[str, object]:
    """Poll GET /runs/{run_id}?include=records until the run is terminal; the snapshot."""

    def terminal() -> dict[str, object] | None:
        response = client.get(f"/runs/{run_id}", params={"include": "records"})
        response.raise_for_status()
        body: dict[str, object] = response.json()
        return body if body["status"] in TERMINAL else None

    return wait_until(terminal, timeout, f"run {run_id} to end")  # type: ignore[return-value]
