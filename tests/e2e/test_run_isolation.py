"""Run processes of `pyoco-server up` cannot use the NATS rights of their worker.

`up` starts its embedded NATS with a user per role; task code gets no credentials in its
environment, so a connection it opens is refused; run as another user (`PYOCO_RUN_AS_USER`)
it cannot read the credential files either. Everything runs for real: `up`, its nats-server,
gateway and worker, and the tasks in the worker's run processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.processes import ROOT, free_port, start_up
from tests.support.waiting import wait_terminal


def run_task(client: httpx.Client, task: str, **params: object) -> dict[str, Any]:
    """Submit a one-task flow.yaml of `tests.support.tasks:<task>`; its terminal snapshot."""
    workflow = json.dumps(
        {
            "version": 1,
            "flow": {"graph": "t", "defaults": {}},
            "tasks": {"t": {"callable": f"tests.support.tasks:{task}"}},
        }
    ).encode()
    response = client.post(
        "/runs/yaml",
        files={"workflow": ("flow.yaml", workflow)},
        data={"flow_name": "main", "params": json.dumps(params)},
    )
    assert response.status_code == 201, response.text
    return wait_terminal(client, response.json()["run_id"])


class Stack:
    def __init__(self, url: str, nats_url: str, store: Path) -> None:
        self.url = url
        self.nats_url = nats_url
        self.store = store


def start_stack(tmp_path: Path, **env: str) -> Iterator[Stack]:
    port = free_port()
    store = tmp_path / "store"
    process, url = start_up(
        tmp_path,
        "--nats-client-port",
        str(port),
        "--nats-store-dir",
        str(store),
        "--task-modules",
        "tests.support.tasks",
        env={"PYOCO_WHEEL_SYNC_DIR": str(tmp_path / "wheels"), **env},
    )
    try:
        yield Stack(url, f"nats://127.0.0.1:{port}", store)
    finally:
        process.stop()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    yield from start_stack(tmp_path)


def test_the_embedded_nats_refuses_a_connection_from_task_code(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, timeout=10) as client:
        snapshot = run_task(client, "reach_nats", url=stack.nats_url)
    assert snapshot["status"] == "COMPLETED", snapshot
    answer = snapshot["task_records"]["t"]["output"]
    assert answer.startswith("-ERR"), answer
    assert "Authorization Violation" in answer


def test_the_embedded_nats_refuses_anyone_without_credentials(stack: Stack) -> None:
    """The same seen from outside: no user, or a wrong password, is refused."""
    probe = (
        "import asyncio, nats, sys\n"
        "async def main():\n"
        "    try:\n"
        "        nc = await nats.connect(sys.argv[1], allow_reconnect=False, connect_timeout=3,\n"
        "                                max_reconnect_attempts=0, user=sys.argv[2] or None,\n"
        "                                password=sys.argv[3] or None)\n"
        "    except Exception as exc:\n"
        "        print('refused', type(exc).__name__, exc)\n"
        "    else:\n"
        "        print('connected'); await nc.close()\n"
        "asyncio.run(main())\n"
    )
    for user, password in (("", ""), ("worker", "guess"), ("admin", "")):
        done = subprocess.run(
            [sys.executable, "-c", probe, stack.nats_url, user, password],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.stdout.startswith("refused"), (user, done.stdout, done.stderr)
    worker = json.loads((stack.store / "auth" / "worker.json").read_text())
    done = subprocess.run(
        [sys.executable, "-c", probe, stack.nats_url, worker["user"], worker["password"]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.startswith("connected"), done.stdout + done.stderr
    assert oct((stack.store / "auth" / "worker.json").stat().st_mode & 0o777) == "0o600"


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs a worker running as root")
def test_a_run_as_another_user_cannot_read_the_worker_credentials(tmp_path: Path) -> None:
    for stack in start_stack(tmp_path, PYOCO_RUN_AS_USER="nobody"):
        credentials = stack.store / "auth" / "worker.json"
        with httpx.Client(base_url=stack.url, timeout=10) as client:
            snapshot = run_task(client, "who_am_i", secret_file=str(credentials))
        assert snapshot["status"] == "COMPLETED", snapshot
        assert snapshot["task_records"]["t"]["output"] == {"uid": 65534, "readable": False}


def test_up_refuses_a_public_address_with_keys_off(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pyoco_server.cli.server", "up", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYOCO_NATS_URL": "nats://127.0.0.1:1"},
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "refusing to listen on 0.0.0.0 with API keys off" in done.stderr
    assert "--insecure" in done.stderr
