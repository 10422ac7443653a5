"""A three-node JetStream cluster on loopback (real nats-server processes) for the tests here.

The deployment's streams and buckets have three replicas (`PYOCO_JS_REPLICAS=3`); the gateway
and workers of tests/conftest.py are given every node's URL, so they ride a node's loss. Each
module is marked `cluster` (`pytest -m cluster` selects them; `.ci/run` runs them all).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyoco_server.local.cluster import NatsCluster, NodePorts
from pyoco_server.local.natsserver import NatsServerError

NODES = 3
PORT_ATTEMPTS = 3


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    """Three nodes on free loopback ports, each with its own store under the test's directory.

    A port that another process takes between being chosen and the node's bind is chosen again.
    """
    for attempt in range(PORT_ATTEMPTS):
        where = tmp_path / ("cluster" if attempt == 0 else f"cluster-{attempt}")
        nodes = NatsCluster(where, [NodePorts.free() for _ in range(NODES)])
        try:
            nodes.start()
        except NatsServerError as exc:
            if "address already in use" not in str(exc) or attempt == PORT_ATTEMPTS - 1:
                raise
            continue
        break
    yield nodes
    nodes.stop()


@pytest.fixture
def settings_env(cluster: NatsCluster) -> dict[str, str]:
    """The deployment under test: every node's URL, replicated resources."""
    return {
        "PYOCO_NATS_URL": cluster.url,
        "PYOCO_JS_REPLICAS": str(NODES),
        "PYOCO_LOAD_DOTENV": "0",
        "PYOCO_LOG_LEVEL": "info",
        "PYOCO_TASK_MODULES": "tests.support.tasks",
    }
