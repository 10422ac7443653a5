"""A JetStream cluster of local `nats-server` processes on loopback, for development and tests.

Each node gets a directory under the cluster's root (`node-1`, `node-2`, ...) holding its
generated config file, its JetStream store and its log. The config names the node, lists every
node's route, and carries the cluster's `authorization` block (the users `up` generates) when
there is one. Ports are fixed for the cluster's life, so a node restarted on the same ports
rejoins with its store, and clients given every node's URL reconnect to whichever answers.

The cluster counts as formed once every node's monitoring endpoint (`/jsz`) reports the same
JetStream meta leader and a meta group of all the nodes: before that, creating a replicated
stream fails with "no suitable peers for placement".
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from pyoco_server.local.natsserver import NatsServer, NatsServerError

CLUSTER_NAME = "pyoco"
_POLL_SEC = 0.05


@dataclasses.dataclass(frozen=True, slots=True)
class NodePorts:
    """A node's loopback ports: clients, routes between nodes, and HTTP monitoring."""

    client: int
    cluster: int
    monitor: int

    @classmethod
    def numbered(cls, index: int, client: int, cluster: int, monitor: int) -> NodePorts:
        """The ports of node `index` (from 0) counting up from the first node's."""
        return cls(client + index, cluster + index, monitor + index)

    @classmethod
    def free(cls, host: str = "127.0.0.1") -> NodePorts:
        """Three ports free now (for tests; a port could be taken before the node binds it)."""
        return cls(*(_free_port(host) for _ in range(3)))


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def node_config(
    name: str, ports: NodePorts, routes: Sequence[int], *, host: str, authorization: str = ""
) -> str:
    """The nats-server config of one node (`routes`: every node's cluster port)."""
    route_urls = ", ".join(f'"nats://{host}:{port}"' for port in routes)
    return (
        f'server_name: "{name}"\n'
        f"cluster {{\n"
        f'  name: "{CLUSTER_NAME}"\n'
        f'  listen: "{host}:{ports.cluster}"\n'
        f"  routes: [{route_urls}]\n"
        f"}}\n"
        f"{authorization}"
    )


class NatsCluster:
    """`nodes` nats-server processes forming one JetStream cluster."""

    def __init__(
        self,
        root: Path,
        ports: Sequence[NodePorts],
        *,
        host: str = "127.0.0.1",
        authorization: str = "",
    ) -> None:
        if not ports:
            raise ValueError("a cluster needs at least one node")
        self.root = Path(root)
        self.host = host
        self.ports = list(ports)
        self.names = [f"n{index + 1}" for index in range(len(self.ports))]
        self.nodes: list[NatsServer] = []
        for index, node_ports in enumerate(self.ports):
            directory = self.root / f"node-{index + 1}"
            config = directory / "nats.conf"
            directory.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(
                    node_config(
                        self.names[index],
                        node_ports,
                        [other.cluster for other in self.ports],
                        host=host,
                        authorization=authorization,
                    )
                )
            self.nodes.append(
                NatsServer(
                    directory,
                    host=host,
                    port=node_ports.client,
                    http_port=node_ports.monitor,
                    config_file=config,
                )
            )

    @property
    def urls(self) -> list[str]:
        """Every node's client URL."""
        return [f"nats://{self.host}:{ports.client}" for ports in self.ports]

    @property
    def url(self) -> str:
        """Every node's client URL, comma-separated (what PYOCO_NATS_URL takes)."""
        return ",".join(self.urls)

    def start(self, timeout: float = 60.0) -> str:
        """Start every node and wait until the cluster is formed; returns `url`."""
        try:
            for node in self.nodes:
                node.start(timeout)
            self.wait_formed(timeout)
        except BaseException:
            self.stop()
            raise
        return self.url

    def wait_formed(self, timeout: float = 60.0, among: Sequence[int] | None = None) -> str:
        """Wait until the running nodes agree on a meta leader among them; its name.

        `among` names the nodes (indexes) to ask, by default every one that runs; the leader
        must be one of them (after a node's loss the others name it until they elect anew).
        """
        indexes = (
            [i for i in range(len(self.nodes)) if self.nodes[i].pid] if among is None else among
        )
        deadline = time.monotonic() + timeout
        seen = "no answer yet"
        while time.monotonic() < deadline:
            leaders: set[object] = set()
            for index in indexes:
                meta = self._meta(index)
                if meta is None or meta.get("cluster_size") != len(self.nodes):
                    leaders.add(None)
                    continue
                leaders.add(meta.get("leader"))
            alive = {self.names[index] for index in indexes}
            if len(leaders) == 1 and leaders <= alive:  # a dead leader is not yet forgotten
                return str(leaders.pop())
            seen = f"leaders reported: {sorted(map(str, leaders))}"
            time.sleep(_POLL_SEC)
        raise NatsServerError(f"the NATS cluster did not form within {timeout:g}s ({seen})")

    def _meta(self, index: int) -> dict[str, object] | None:
        """Node `index`'s view of the JetStream meta group, or None without an answer."""
        url = f"http://{self.host}:{self.ports[index].monitor}/jsz"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                meta = json.load(response).get("meta_cluster")
        except (OSError, urllib.error.URLError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    def index_of(self, server_name: str) -> int:
        """The index of the node called `server_name` (as NATS reports leaders)."""
        return self.names.index(server_name)

    def kill(self, index: int) -> None:
        """SIGKILL node `index` (as a crash or a lost host would)."""
        node = self.nodes[index]
        if node.pid is not None:
            os.kill(node.pid, signal.SIGKILL)
        node.stop()

    def pause(self, index: int) -> None:
        """SIGSTOP node `index`: it keeps its sockets but answers nothing from now on."""
        self._node(index).pause()

    def resume(self, index: int) -> None:
        """SIGCONT a paused node."""
        self._node(index).resume()

    def _node(self, index: int) -> NatsServer:
        node = self.nodes[index]
        if node.pid is None:
            raise NatsServerError(f"node {self.names[index]} is not running")
        return node

    def restart(self, index: int, timeout: float = 60.0) -> None:
        """Stop node `index` cleanly and start it again on the same ports and store."""
        self.nodes[index].stop()
        self.nodes[index].start(timeout)

    def stop(self) -> None:
        """Stop every node (a paused one is resumed first, so that it can exit)."""
        for node in self.nodes:
            if node.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(node.pid, signal.SIGCONT)
            node.stop()

    def __enter__(self) -> NatsCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
