"""Clients that submit like careful users: each run under its own Idempotency-Key, retried
until the gateway accepts it, whatever happens to the gateway or NATS meanwhile."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.effects import submit_effect

RETRY_AFTER_SEC = 0.05
"""How long a client waits before it asks again (a client's own pace, not a wait on the test)."""


@dataclass
class Burst:
    """What a burst of retried submits saw."""

    run_ids: dict[str, str] = field(default_factory=dict)
    """Idempotency-Key -> the run the gateway accepted for it."""
    statuses: list[int] = field(default_factory=list)
    """Every answer's status (-1 for no answer: connection refused or reset)."""
    accepted_at: dict[str, float] = field(default_factory=dict)
    """Idempotency-Key -> when it was accepted (time.monotonic())."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answered(self, status: int) -> None:
        with self.lock:
            self.statuses.append(status)


def submit_burst(
    url: Callable[[], str],
    effects: Path,
    count: int,
    *,
    threads: int = 8,
    on_accepted: Callable[[int], None] = lambda _accepted: None,
    deadline_sec: float = 180.0,
) -> Burst:
    """Submit `count` effect runs (keys `k0000`...) from `threads` clients, each retried until
    accepted; `url()` is the gateway to use right now, `on_accepted(n)` is told each count."""
    burst = Burst()
    deadline = time.monotonic() + deadline_sec

    def one(key: str) -> None:
        while time.monotonic() < deadline:
            try:
                with httpx.Client(base_url=url(), timeout=10) as client:
                    response = submit_effect(client, effects, key, key=key)
            except httpx.HTTPError:
                burst.answered(-1)
            else:
                burst.answered(response.status_code)
                if response.status_code in (200, 201):
                    with burst.lock:
                        earlier = burst.run_ids.setdefault(key, response.json()["run_id"])
                        assert earlier == response.json()["run_id"], "one key, two runs"
                        burst.accepted_at.setdefault(key, time.monotonic())
                        accepted = len(burst.run_ids)
                    on_accepted(accepted)
                    return
            time.sleep(RETRY_AFTER_SEC)
        raise AssertionError(f"{key} was never accepted")

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(one, f"k{n:04}") for n in range(count)]:
            future.result()
    return burst
