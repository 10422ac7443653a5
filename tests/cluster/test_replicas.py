"""PYOCO_JS_REPLICAS: applied to every stream, bucket and the object store, changed in place
where NATS allows it, and refused with the way out where it does not."""

from __future__ import annotations

import asyncio

import nats
import pytest
from nats.js.api import StreamConfig

from pyoco_server.domain.settings import Settings
from pyoco_server.local.cluster import NatsCluster
from pyoco_server.local.natsserver import NatsServer
from tests.support.cli import run_admin
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.serial]


def configs(url: str) -> dict[str, StreamConfig]:
    """Every stream's config (KV buckets and the object store are streams too)."""

    async def read() -> dict[str, StreamConfig]:
        nc = await nats.connect(servers=url.split(","))
        try:
            return {
                info.config.name or "": info.config for info in await nc.jetstream().streams_info()
            }
        finally:
            await nc.close()

    return asyncio.run(read())


def replicas(url: str) -> dict[str, int]:
    """Every stream's replicas."""
    return {name: config.num_replicas or 1 for name, config in configs(url).items()}


def direct_buckets(url: str) -> set[str]:
    """The buckets that answer direct gets."""
    return {
        name
        for name, config in configs(url).items()
        if name.startswith("KV_") and config.allow_direct
    }


def test_replicas_are_applied_to_everything_and_changed_in_place(
    cluster: NatsCluster, settings: Settings
) -> None:
    one = run_admin(settings, "setup", PYOCO_JS_REPLICAS="1")
    assert one.returncode == 0, one.stderr
    created = replicas(cluster.url)
    assert len(created) == 11, created
    assert set(created.values()) == {1}
    assert len(direct_buckets(cluster.url)) == 6, "one replica: direct gets (any peer is it)"

    three = run_admin(settings, "setup", PYOCO_JS_REPLICAS="3")
    assert three.returncode == 0, three.stderr
    # A stream scaling up may be left out of a listing until its new peers catch up.
    wait_until(
        lambda: replicas(cluster.url) == dict.fromkeys(created, 3),
        timeout=30,
        what="every resource at 3 replicas",
    )

    # Any replica answers a direct get, a lagging one with stale data: gets go to the leader.
    assert direct_buckets(cluster.url) == set()

    unset = run_admin(settings, "setup", PYOCO_JS_REPLICAS="")
    assert unset.returncode == 0, unset.stderr
    assert replicas(cluster.url) == dict.fromkeys(created, 3), "unset must not scale down"


def test_replicas_a_single_server_cannot_have_are_refused_with_the_way_out(
    nats_server: NatsServer,
) -> None:
    single = Settings.from_env({"PYOCO_NATS_URL": nats_server.url, "PYOCO_LOAD_DOTENV": "0"})
    done = run_admin(single, "setup", PYOCO_JS_REPLICAS="3")

    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "not part of a cluster" in line
    assert "PYOCO_JS_REPLICAS=1" in line
    assert "nats-cluster up --nodes 3" in line
    assert replicas(nats_server.url) == {}, "nothing half-created"


def test_more_replicas_than_servers_are_refused_naming_both(
    cluster: NatsCluster, settings: Settings
) -> None:
    done = run_admin(settings, "setup", PYOCO_JS_REPLICAS="5")

    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "cannot place 5 replicas" in line
    assert "fewer than 5 JetStream servers" in line
