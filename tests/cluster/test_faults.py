"""The cluster fault suite: a three-node cluster with replicated streams loses, freezes and
restarts nodes under load, and every accepted run still ends once, COMPLETED, its task's side
effect counted once. Each test prints what it saw (docs/operations.md reports the figures)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pyoco_server.domain.settings import Settings
from pyoco_server.local.cluster import NatsCluster
from tests.cluster.load import (
    Load,
    assert_nothing_lost_or_repeated,
    connections_by_node,
    settle,
    stream_leader,
)
from tests.support.processes import Gateway, WorkerFactory
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.serial]

IN_FLIGHT = 200
FREEZE_SEC = 30.0


@pytest.fixture
def effects(tmp_path: Path) -> Path:
    """Where the runs' tasks leave their side effects (tests.support.tasks:effect)."""
    found = tmp_path / "effects"
    found.mkdir()
    return found


@pytest.fixture
def worker(start_worker: WorkerFactory) -> None:
    """One worker, given every node's URL."""
    start_worker()


def pause(seconds: float) -> None:
    """Let the load run on (the fault's own duration, not a wait for a condition)."""
    threading.Event().wait(seconds)


def in_flight(load: Load, effects: Path) -> int:
    """Runs accepted whose task has not run yet."""
    return load.accepted - sum(1 for _ in effects.iterdir())


def test_kill_9_of_the_work_stream_leader_with_200_runs_in_flight(
    cluster: NatsCluster,
    settings: Settings,
    gateway: Gateway,
    worker: None,
    effects: Path,
) -> None:
    load = Load(lambda: gateway.url, effects, clients=8, seconds=0.1).start()
    wait_until(
        lambda: in_flight(load, effects) >= IN_FLIGHT,
        timeout=120,
        what=f"{IN_FLIGHT} runs in flight",
    )
    leader = stream_leader(cluster, settings.work_stream)
    cluster.kill(leader)
    pause(5)
    load.stop()

    report = settle(
        f"kill -9 of work stream leader {cluster.names[leader]}", load, gateway.url, effects
    )
    assert_nothing_lost_or_repeated(report)
    assert report.accepted > IN_FLIGHT


def test_a_follower_frozen_for_30_s_under_load(
    cluster: NatsCluster,
    settings: Settings,
    gateway: Gateway,
    worker: None,
    effects: Path,
) -> None:
    leader = stream_leader(cluster, settings.work_stream)
    # The follower the most of our processes talk to: the hardest one to freeze.
    connections = connections_by_node(cluster)
    follower = max((i for i in range(len(connections)) if i != leader), key=connections.__getitem__)
    load = Load(lambda: gateway.url, effects).start()
    wait_until(lambda: load.accepted >= 50, timeout=60, what="the load to run")
    cluster.pause(follower)
    try:
        pause(FREEZE_SEC)
    finally:
        cluster.resume(follower)
    pause(3)
    load.stop()

    report = settle(
        f"SIGSTOP of follower {cluster.names[follower]} ({connections[follower]} clients) "
        f"for {FREEZE_SEC:g}s",
        load,
        gateway.url,
        effects,
    )
    assert_nothing_lost_or_repeated(report)


def test_a_rolling_restart_of_every_node_under_load(
    cluster: NatsCluster,
    gateway: Gateway,
    worker: None,
    effects: Path,
) -> None:
    load = Load(lambda: gateway.url, effects).start()
    for index in range(len(cluster.nodes)):
        wanted = 40 * (index + 1)
        wait_until(lambda wanted=wanted: load.accepted >= wanted, timeout=120, what="the load")
        cluster.restart(index)
        cluster.wait_formed()
    pause(3)
    load.stop()

    report = settle("rolling restart of n1, n2, n3", load, gateway.url, effects)
    assert_nothing_lost_or_repeated(report)
