"""`pyoco-server nats-cluster up`: a local JetStream cluster for development and tests.

It starts `--nodes` nats-server processes on loopback (local/cluster.py), with the same NATS
users as `up`'s embedded NATS (`<store>/auth`, so a gateway, worker or admin started in this
directory finds its credentials), creates the streams and buckets with one replica per node, and
prints the URL to give `pyoco-server up --nats-url` and `PYOCO_NATS_URL`. It runs until Ctrl-C
or SIGTERM, then stops every node; their stores stay, so the next start keeps the runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import sys
from pathlib import Path

from pyoco_server.domain.settings import Settings
from pyoco_server.local import nats_auth
from pyoco_server.local.cluster import NatsCluster, NodePorts
from pyoco_server.local.natsserver import NatsServerError
from pyoco_server.local.up import StartupError, check_port_free

_FORM_TIMEOUT_SEC = 60.0


@dataclasses.dataclass(frozen=True, slots=True)
class ClusterOptions:
    """What `nats-cluster up` was asked to run."""

    nodes: int = 3
    store_dir: Path = Path(".pyoco/nats")
    host: str = "127.0.0.1"
    client_port: int = 4222
    cluster_port: int = 6222
    http_port: int = 8222
    replicas: int | None = None
    """Replicas of the streams and buckets (None: one per node, at most 3)."""


def cluster_ports(options: ClusterOptions) -> list[NodePorts]:
    """Each node's ports, counting up from the first node's."""
    return [
        NodePorts.numbered(index, options.client_port, options.cluster_port, options.http_port)
        for index in range(options.nodes)
    ]


def replicas_of(options: ClusterOptions) -> int:
    """The replicas to create resources with."""
    replicas = options.replicas or min(options.nodes, 3)
    if replicas > options.nodes:
        raise StartupError(
            f"--replicas {replicas} needs at least {replicas} nodes; pass --nodes {replicas}"
        )
    return replicas


class LocalCluster:
    """One `nats-cluster up`: the nodes, their users and the resources."""

    def __init__(self, options: ClusterOptions, settings: Settings) -> None:
        self.options = options
        self.replicas = replicas_of(options)
        self.settings = settings.replace(js_replicas=self.replicas)
        self.cluster: NatsCluster | None = None

    async def run(self) -> int:
        """Start, announce, serve until a signal, stop."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            url = await self.start()
            print(announcement(url, self.options, self.replicas), file=sys.stderr, flush=True)
            await stop.wait()
            print("pyoco-server nats-cluster: stopping", file=sys.stderr, flush=True)
            return 0
        finally:
            self.stop()

    async def start(self) -> str:
        """Start the nodes, wait for the cluster to form, create the resources; the URL."""
        options = self.options
        ports = cluster_ports(options)
        for node in ports:
            for port, what in ((node.client, "NATS"), (node.cluster, "NATS cluster")):
                check_port_free(options.host, port, what, "pass other ports (see --help)")
        options.store_dir.mkdir(parents=True, exist_ok=True)
        config, auth_dir = nats_auth.prepare(options.store_dir, self.settings)
        self.cluster = NatsCluster(
            options.store_dir / "cluster",
            ports,
            host=options.host,
            authorization=config.read_text(),
        )
        try:
            url = await asyncio.to_thread(self.cluster.start, _FORM_TIMEOUT_SEC)
            await nats_auth.create_resources(
                self.settings.replace(nats_url=url), auth_dir, _FORM_TIMEOUT_SEC
            )
        except (NatsServerError, TimeoutError) as exc:
            raise StartupError(str(exc)) from None
        return url

    def stop(self) -> None:
        """Stop every node."""
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None


def announcement(url: str, options: ClusterOptions, replicas: int) -> str:
    """What to tell the user once the cluster is up."""
    return (
        f"NATS cluster of {options.nodes} nodes is up: {url} (JetStream replicas {replicas}, "
        f"stores in {options.store_dir / 'cluster'}). In this directory, run "
        f"`PYOCO_JS_REPLICAS={replicas} pyoco-server up --nats-url {url}`. Ctrl-C stops the "
        "cluster."
    )
