"""Steady load for the cluster fault tests, and what it saw.

`Load` runs client threads that each submit effect runs one after the other, every run under
its own Idempotency-Key and retried until a gateway accepts it (as a careful user would), until
told to stop. `Report` is what the issue asks each fault to record: runs accepted, completed and
duplicated (a task that ran twice), the answers other than success the clients saw, and the
longest stall (the longest time no submit was accepted).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import itertools
import json
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import nats

from pyoco_server.local.cluster import NatsCluster
from tests.support.effects import effect_counts, submit_effect, wait_all_ended

RETRY_SEC = 0.1
"""How long a client waits before it asks again after a refusal."""


class Load:
    """`clients` threads submitting effect runs to `url()` until `stop()`."""

    def __init__(
        self, url: Callable[[], str], effects: Path, *, clients: int = 4, seconds: float = 0.02
    ) -> None:
        self._url = url
        self._effects = effects
        self._seconds = seconds
        self._keys = itertools.count()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.run_ids: dict[str, str] = {}
        """Idempotency-Key -> the run accepted for it."""
        self.accepted_at: list[float] = []
        self.refusals: collections.Counter[str] = collections.Counter()
        """Answers other than success, by status (or the client error's name)."""
        self.details: collections.Counter[str] = collections.Counter()
        """The refusals' bodies (the start of each), for a failing test to show."""
        self.errors: list[BaseException] = []
        self._threads = [threading.Thread(target=self._client) for _ in range(clients)]

    def start(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    @property
    def accepted(self) -> int:
        with self._lock:
            return len(self.run_ids)

    def stop(self, timeout: float = 120.0) -> None:
        """Stop asking for new runs; a run being submitted is retried until accepted."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        assert not self.errors, self.errors

    def _client(self) -> None:
        try:
            with httpx.Client(timeout=15) as client:
                while not self._stop.is_set():
                    self._submit(client, f"k{next(self._keys):05}")
        except BaseException as exc:  # shown by stop(), not lost in the thread
            self.errors.append(exc)

    def _submit(self, client: httpx.Client, key: str) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                client.base_url = httpx.URL(self._url())
                response = submit_effect(client, self._effects, key, self._seconds, key=key)
            except httpx.HTTPError as exc:
                self.refusals[type(exc).__name__] += 1
            else:
                if response.status_code in (200, 201):
                    with self._lock:
                        earlier = self.run_ids.setdefault(key, response.json()["run_id"])
                        assert earlier == response.json()["run_id"], "one key, two runs"
                        self.accepted_at.append(time.monotonic())
                    return
                self.refusals[str(response.status_code)] += 1
                self.details[response.text[:160]] += 1
            time.sleep(RETRY_SEC)
        raise AssertionError(f"{key} was never accepted")

    def longest_stall(self) -> float:
        """The longest time between two accepted submits."""
        times = sorted(self.accepted_at)
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


@dataclasses.dataclass
class Report:
    """What one fault did to the runs."""

    fault: str
    accepted: int
    completed: int
    other_ends: dict[str, int]
    duplicated: int
    lost: int
    refusals: dict[str, int]
    longest_stall_sec: float

    def line(self) -> str:
        return (
            f"{self.fault}: {self.accepted} accepted, {self.completed} completed, "
            f"{self.duplicated} duplicated, {self.lost} lost, other ends {self.other_ends}, "
            f"client refusals {self.refusals}, longest stall {self.longest_stall_sec:.1f}s"
        )


def settle(fault: str, load: Load, gateway_url: str, effects: Path) -> Report:
    """Wait until every accepted run has ended; what happened to them."""
    with httpx.Client(base_url=gateway_url, timeout=15) as client:
        ended = wait_all_ended(client, load.run_ids.values(), timeout=240)
    counts = effect_counts(effects)
    statuses = collections.Counter(snapshot["status"] for snapshot in ended.values())
    report = Report(
        fault=fault,
        accepted=len(load.run_ids),
        completed=statuses.pop("COMPLETED", 0),
        other_ends=dict(statuses),
        duplicated=sum(1 for key in load.run_ids if counts.get(key, 0) > 1),
        lost=sum(1 for key in load.run_ids if counts.get(key, 0) == 0),
        refusals=dict(load.refusals),
        longest_stall_sec=round(load.longest_stall(), 2),
    )
    print("\n" + report.line())  # the figures docs/operations.md reports
    for detail, count in load.details.most_common(3):
        print(f"  {count} x {detail}")
    return report


def assert_nothing_lost_or_repeated(report: Report) -> None:
    """Every accepted run completed, its task ran exactly once."""
    assert report.completed == report.accepted, report.line()
    assert (report.duplicated, report.lost, report.other_ends) == (0, 0, {}), report.line()


def stream_leader(cluster: NatsCluster, stream: str) -> int:
    """The index of the node leading `stream`."""

    async def ask() -> str:
        nc = await nats.connect(servers=cluster.urls)
        try:
            info = await nc.jetstream().stream_info(stream)
        finally:
            await nc.close()
        assert info.cluster is not None
        assert info.cluster.leader
        return info.cluster.leader

    return cluster.index_of(asyncio.run(ask()))


def connections_by_node(cluster: NatsCluster) -> list[int]:
    """How many client connections each running node has (from its monitoring port)."""
    found = []
    for index, ports in enumerate(cluster.ports):
        if cluster.nodes[index].pid is None:
            found.append(0)
            continue
        with urllib.request.urlopen(f"http://127.0.0.1:{ports.monitor}/connz", timeout=2) as r:
            data: dict[str, Any] = json.load(r)
        found.append(int(data.get("num_connections", 0)))
    return found
