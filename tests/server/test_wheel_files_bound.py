"""A deleted wheel version's file stays while queued or running runs are bound to it.

A real gateway process (two, one after the other, sharing a run index cache) on a real
nats-server; the object store is read with nats-py.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import nats
from nats.js.errors import NotFoundError

from pyoco_server.domain.settings import Settings
from tests.support.processes import start_gateway
from tests.support.waiting import wait_until
from tests.support.wheels import upload, wheel_bytes

WHEEL = "my_ext-0.1.0-py3-none-any.whl"


def stored(settings: Settings, sha256: str) -> bool:
    """Whether the wheel store holds the file with this content."""

    async def look() -> bool:
        connection = await nats.connect(settings.nats_url)
        try:
            files = await connection.jetstream().object_store("pyoco_wheels")
            try:
                await files.get_info(f"sha256-{sha256}")
            except NotFoundError:
                return False
            return True
        finally:
            await connection.close()

    return asyncio.run(look())


def test_a_deleted_versions_file_stays_while_a_run_queued_before_a_restart_needs_it(
    settings: Settings, tmp_path: Path
) -> None:
    data = wheel_bytes("my_ext", "0.1.0")
    sha256 = hashlib.sha256(data).hexdigest()
    first = start_gateway(settings, tmp_path)
    with first.client() as client:
        assert upload(client, data, WHEEL).status_code == 201
        response = client.post("/runs", json={"flow_name": "main"})
        assert response.status_code == 201, response.text
        run_id = response.json()["run_id"]
        code = lambda: client.get(f"/runs/{run_id}").json().get("code") or []  # noqa: E731
        wait_until(
            lambda: [c["sha256"] for c in code()] == [sha256],
            timeout=10,
            what="the run bound to the wheel",
        )
    first.process.stop()
    # Resuming the index the first one kept; its reaper rounds come every half second.
    second = start_gateway(settings, tmp_path, PYOCO_REAPER_INTERVAL_SEC="0.5")
    with second.client() as client:
        # Listing answers once the index is loaded: until then every wheel counts as bound.
        wait_until(lambda: client.get("/runs").status_code == 200, timeout=10, what="the index")
        assert client.delete(f"/wheels/{WHEEL}").status_code == 200
        assert client.get(f"/runs/{run_id}").json()["status"] == "PENDING"
        assert stored(settings, sha256)
        assert client.post(f"/runs/{run_id}/cancel").status_code == 200
        wait_until(
            lambda: client.get(f"/runs/{run_id}").json()["status"] == "CANCELLED",
            timeout=10,
            what="the run cancelled",
        )
    # No run is bound to the deleted version any more: a reaper round removes its file.
    wait_until(lambda: not stored(settings, sha256), timeout=10, what="the file removed")
