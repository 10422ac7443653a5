"""`pyoco-server-admin backup` and `restore`: a single server's deployment moved to a cluster."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyoco_server.domain.records import DeadLetterReason
from pyoco_server.domain.settings import Settings
from pyoco_server.jetstream import NatsBackend
from pyoco_server.local.cluster import NatsCluster
from pyoco_server.local.natsserver import NatsServer
from tests.cluster.test_replicas import replicas
from tests.support.cli import create_key, run_admin
from tests.support.dlq import letter
from tests.support.flows import FLOW_YAML
from tests.support.processes import WorkerFactory, start_gateway
from tests.support.runs import submit
from tests.support.waiting import wait_terminal, wait_until
from tests.support.wheels import upload, wheel_bytes

pytestmark = [pytest.mark.cluster, pytest.mark.serial]


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Settings]:
    """A single-server deployment (the cluster fixture's settings point at the target)."""
    server = NatsServer(tmp_path / "source-nats")
    server.start()
    yield Settings.from_env(
        {
            "PYOCO_NATS_URL": server.url,
            "PYOCO_INDEX_DIR": str(tmp_path / "source-index"),
            "PYOCO_LOAD_DOTENV": "0",
            "PYOCO_TASK_MODULES": "tests.support.tasks",
        }
    )
    server.stop()


def publish_dead_letter(settings: Settings) -> None:
    async def publish() -> None:
        backend = NatsBackend(settings, "test-dlq")
        await backend.start()
        try:
            assert await backend.wait_ready(10)
            await backend.dead_letters.publish(letter(DeadLetterReason.FLOW_NOT_FOUND))
        finally:
            await backend.close()

    asyncio.run(publish())


def summary(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    value: dict[str, object] = json.loads(lines[0])
    return value


WHEEL = "my_ext-0.1.0-py3-none-any.whl"


def fill(source: Settings, tmp_path: Path, wheel: bytes) -> tuple[str, list[str]]:
    """An API key, a wheel, two runs still queued (no worker) and a dead letter; key, run ids."""
    key = create_key(source, "acme", "admin")
    gateway = start_gateway(source, tmp_path)
    with gateway.client() as client:
        stored = upload(client, wheel, WHEEL)
        assert stored.status_code == 201, stored.text
        run_ids = [submit(client, FLOW_YAML), submit(client, FLOW_YAML)]
    gateway.process.stop()
    publish_dead_letter(source)
    return key, run_ids


def test_a_single_server_moves_to_a_cluster(
    source: Settings,
    cluster: NatsCluster,
    settings: Settings,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    wheel = wheel_bytes("my_ext", "0.1.0")
    key, run_ids = fill(source, tmp_path, wheel)
    backup = tmp_path / "backup"

    written = summary(run_admin(source, "backup", str(backup)))
    counts = written["counts"]
    assert isinstance(counts, dict)
    assert counts["PYOCO_WORK"] == 2
    assert counts["PYOCO_DLQ"] == 1
    assert counts["pyoco_wheels"] == 1
    assert counts["pyoco_auth"] == 1
    assert counts["pyoco_runs"] == 2, "the latest snapshot of each run, not every revision"
    assert "@" not in str(written["source"])
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["version"] == 1
    assert manifest["counts"] == counts

    again = run_admin(source, "backup", str(backup))
    assert again.returncode == 1
    assert "not an empty directory" in again.stderr

    restored = summary(run_admin(settings, "restore", str(backup)))
    assert restored["counts"] == counts
    assert set(replicas(cluster.url).values()) == {3}

    refused = run_admin(settings, "restore", str(backup))
    assert refused.returncode == 1
    assert "already holds runs" in refused.stderr
    assert "--force" in refused.stderr
    forced = summary(run_admin(settings, "restore", "--force", str(backup)))
    assert forced["already_stored"] == {"PYOCO_DLQ": 1, "PYOCO_WHEEL_HISTORY": 1, "PYOCO_WORK": 2}

    gateway = start_gateway(settings, tmp_path, PYOCO_HTTP_AUTH_MODE="api_key")
    with gateway.client(headers={settings.http_api_key_header: key}) as client:
        assert gateway.client().get("/runs").status_code == 401
        listed = client.get("/runs")
        assert listed.status_code == 200, listed.text
        assert [stored["name"] for stored in client.get("/wheels").json()] == [WHEEL]
        assert client.get(f"/wheels/{WHEEL}").content == wheel
        assert len(client.get("/dlq").json()["items"]) == 1
        wait_until(
            lambda: all(client.get(f"/runs/{run_id}").status_code == 200 for run_id in run_ids),
            timeout=30,
            what="the restored runs in the gateway's index",
        )
        start_worker()
        for run_id in run_ids:
            assert wait_terminal(client, run_id, timeout=60)["status"] == "COMPLETED"


def test_restore_refuses_a_directory_that_holds_no_backup(source: Settings, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = run_admin(source, "restore", str(tmp_path / "empty"))
    assert done.returncode == 1
    assert "manifest.json" in done.stderr
