"""`pyoco-server nats-cluster up` then `pyoco-server up --nats-url` with every node's URL, as
docs/operations.md tells a developer to: a run completes on the replicated streams, and Ctrl-C
stops everything."""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from pyoco_server.local.cluster import NatsCluster, NodePorts
from tests.support.flows import FLOW_YAML
from tests.support.processes import start_process, start_up
from tests.support.waiting import TERMINAL, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.serial]


def free_run(count: int) -> int:
    """The first of `count` consecutive ports free on 127.0.0.1 right now."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = int(probe.getsockname()[1])
        if first + count > 65535:
            continue
        try:
            for port in range(first, first + count):
                with socket.socket() as taken:
                    taken.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    raise AssertionError(f"no {count} consecutive free ports")


def test_a_local_cluster_serves_up_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {**os.environ, "PYOCO_LOAD_DOTENV": "0"}
    ports = [free_run(3) for _ in range(3)]
    command = [sys.executable, "-m", "pyoco_server.cli.server", "nats-cluster", "up"]
    command += ["--client-port", str(ports[0]), "--cluster-port", str(ports[1])]
    command += ["--http-port", str(ports[2])]
    nodes = start_process("nats-cluster", command, env, tmp_path, cwd=tmp_path)
    wait_until(
        lambda: "is up:" in nodes.log() or (not nodes.alive() and pytest.fail(nodes.log())),
        timeout=90,
        what="the cluster",
    )
    urls = [f"nats://127.0.0.1:{ports[0] + index}" for index in range(3)]
    assert f"PYOCO_JS_REPLICAS=3 pyoco-server up --nats-url {','.join(urls)}" in nodes.log()
    assert sorted(path.name for path in (tmp_path / ".pyoco/nats/cluster").iterdir()) == [
        "node-1",
        "node-2",
        "node-3",
    ]

    # In the same directory, up finds the users the cluster was given; one URL per option.
    up, base_url = start_up(
        tmp_path,
        "--nats-url",
        urls[0],
        "--nats-url",
        ",".join(urls[1:]),
        env={**env, "PYOCO_JS_REPLICAS": "3", "PYOCO_TASK_MODULES": "tests.support.tasks"},
        cwd=tmp_path,
    )
    with httpx.Client(base_url=base_url, timeout=10) as client:
        submitted = client.post(
            "/runs/yaml", files={"workflow": ("flow.yaml", FLOW_YAML)}, data={"flow_name": "main"}
        )
        assert submitted.status_code == 201, submitted.text
        run_id = submitted.json()["run_id"]
        ended = wait_until(
            lambda: (r := client.get(f"/runs/{run_id}").json())["status"] in TERMINAL and r,
            timeout=30,
            what="the run to end",
        )
    assert ended["status"] == "COMPLETED", ended  # type: ignore[index]

    up.signal(signal.SIGINT)
    assert up.wait(60) == 0, up.log()
    nodes.signal(signal.SIGINT)
    assert nodes.wait(60) == 0, nodes.log()
    for port in (ports[0], ports[0] + 1, ports[0] + 2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))  # every node is gone


def test_up_refuses_a_nats_url_that_is_not_one(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pyoco_server.cli.server", "up", "--nats-url"]
    command += ["nats://127.0.0.1:4222,127.0.0.1:4223"]
    done = start_process("up", command, {**os.environ}, tmp_path, cwd=tmp_path)
    assert done.wait(30) == 2
    assert "--nats-url" in done.log()
    assert "expected nats://host:port" in done.log()


def test_the_cluster_elects_a_new_meta_leader_and_takes_a_node_back(tmp_path: Path) -> None:
    """NatsCluster's own helpers, which the fault tests rely on."""
    cluster = NatsCluster(tmp_path / "c", [NodePorts.free() for _ in range(3)])
    with cluster:
        leader = cluster.wait_formed()
        assert leader in cluster.names
        cluster.kill(cluster.index_of(leader))
        survivors = [i for i in range(3) if cluster.names[i] != leader]
        new_leader = cluster.wait_formed(among=survivors)
        assert new_leader != leader
        cluster.restart(cluster.index_of(leader))
        assert cluster.wait_formed() in cluster.names
