"""The `gateway` NATS user `up` generates may do what re-runs and waiting reasons need, and the
`worker` user may not touch the stored flow.yaml files.

`pyoco-server up --no-worker` with its embedded NATS and users; the ports are used as the
gateway and a worker use them, with the credentials `up` generated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyoco_server.domain.errors import BackendUnavailable
from pyoco_server.domain.settings import Settings
from pyoco_server.jetstream import NatsBackend
from pyoco_server.ports import Bucket
from tests.support.processes import free_port, start_up
from tests.support.samples import worker_record

SHA = "ab" * 32


@pytest.fixture
def nats_users(tmp_path: Path) -> Iterator[Settings]:
    """Settings that find the users of an `up` started in a fresh directory."""
    directory = tmp_path / "project"
    directory.mkdir()
    port = free_port()
    process, _url = start_up(
        tmp_path, "--no-worker", "--nats-client-port", str(port), cwd=directory
    )
    try:
        yield Settings(
            nats_url=f"nats://127.0.0.1:{port}",
            nats_auth_dir=str(directory / ".pyoco" / "nats" / "auth"),
        )
    finally:
        process.stop()


async def as_gateway(settings: Settings) -> None:
    backend = NatsBackend(settings, "test-gateway", role="gateway")
    await backend.start()
    try:
        assert await backend.wait_ready(10), backend.unavailable_reason()
        seen: list[str] = []
        feed = backend.follow(Bucket.WORKERS, lambda key, _v, _r: seen.append(key), lambda *_: None)
        feed.start()
        try:
            assert await feed.wait_loaded(10), "the gateway user may follow the worker registry"
        finally:
            await feed.stop()
        assert seen == ["w1"]
        assert await backend.deployment.queue("default") is not None  # consumer info
        await backend.workflows.put(SHA, b"version: 1\n")
        assert await backend.workflows.get(SHA) == b"version: 1\n"
    finally:
        await backend.close()


async def as_worker(settings: Settings) -> None:
    backend = NatsBackend(settings, "test-worker", role="worker")
    await backend.start()
    try:
        assert await backend.wait_ready(10), backend.unavailable_reason()
        await backend.workers.put(worker_record("w1"), None)  # as a worker registers
        await backend.jobs.subscribe("default")  # creates the tag's consumer
        with pytest.raises(BackendUnavailable):
            await backend.workflows.put(SHA, b"tampered\n")
    finally:
        await backend.close()


def test_the_gateway_user_may_and_the_worker_user_may_not(nats_users: Settings) -> None:
    asyncio.run(as_worker(nats_users.replace(nats_request_timeout_sec=1.0)))
    asyncio.run(as_gateway(nats_users.replace(nats_request_timeout_sec=2.0)))
