"""`pyoco-server up`: embedded NATS, gateway and worker as one command, stopped as one."""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from pyoco_server.natsserver import NatsServer
from tests.conftest import FLOW_YAML, Process, free_port, http_ok, start_process, wait_until

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}


def children_of(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(child) for child in task.read_text().split()]
    return found


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def start_up(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[Process, str]:
    port = free_port()
    command = [sys.executable, "-m", "pyoco_server.cli.server", "up", "--port", str(port), *args]
    process = start_process("up", command, {**os.environ, **(env or {})}, tmp_path)
    url = f"http://127.0.0.1:{port}"
    wait_until(
        lambda: (
            "pyoco-server is up" in process.log()
            or (not process.alive() and pytest.fail(process.log()))
        ),
        timeout=60,
        what="pyoco-server up",
    )
    return process, url


def run_seed_flow(url: str, tag: str = "default") -> dict[str, object]:
    with httpx.Client(base_url=url, timeout=10) as client:
        response = client.post(
            "/runs/yaml",
            files={"workflow": ("flow.yaml", FLOW_YAML)},
            data={"flow_name": "main", "tag": tag},
        )
        assert response.status_code == 201, response.text
        run_id = response.json()["run_id"]

        def terminal() -> dict[str, object] | None:
            body: dict[str, object] = client.get(f"/runs/{run_id}").json()
            return body if body["status"] in TERMINAL else None

        return wait_until(terminal, 30, "the run to end")  # type: ignore[return-value]


def test_killing_up_outright_still_stops_every_child(tmp_path: Path) -> None:
    """SIGKILL gives `up` no chance to stop its children: the kernel's parent-death signal does."""
    process, url = start_up(
        tmp_path, "--nats-client-port", str(free_port()), "--nats-store-dir", str(tmp_path / "s")
    )
    children = children_of(process.pid)
    assert len(children) == 3  # nats-server, worker, gateway
    assert http_ok(f"{url}/health")

    process.signal(signal.SIGKILL)
    process.wait(10)
    for child in children:
        wait_until(lambda child=child: not pid_alive(child), 30, f"child {child} to exit")


def test_up_runs_everything_and_sigterm_stops_every_child(tmp_path: Path) -> None:
    nats_port = free_port()
    process, url = start_up(
        tmp_path,
        "--nats-client-port",
        str(nats_port),
        "--nats-store-dir",
        str(tmp_path / "store"),
        "--worker-tags",
        "default,hello",
    )
    children = children_of(process.pid)
    assert len(children) == 3  # nats-server, worker, gateway
    assert http_ok(f"{url}/health")
    assert run_seed_flow(url, tag="hello")["status"] == "COMPLETED"
    assert (tmp_path / "store" / "jetstream").is_dir()

    process.signal(signal.SIGTERM)
    assert process.wait(60) == 0
    for child in children:
        wait_until(lambda child=child: not pid_alive(child), 10, f"child {child} to exit")
    assert "pyoco-server: stopping" in process.log()


def test_up_with_a_nats_url_starts_no_nats_of_its_own(tmp_path: Path) -> None:
    with NatsServer(tmp_path / "external") as external:
        process, url = start_up(tmp_path, "--nats-url", external.url)
        try:
            assert len(children_of(process.pid)) == 2  # worker and gateway only
            assert external.url in process.log()
            assert run_seed_flow(url)["status"] == "COMPLETED"
        finally:
            process.stop()


def test_up_uses_pyoco_nats_url_from_the_environment(tmp_path: Path) -> None:
    with NatsServer(tmp_path / "external") as external:
        process, _ = start_up(tmp_path, "--no-worker", env={"PYOCO_NATS_URL": external.url})
        try:
            assert len(children_of(process.pid)) == 1  # the gateway only
        finally:
            process.stop()


def test_up_reports_a_port_in_use_clearly(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "pyoco_server.cli.server", "up", "--port", str(port)]
        process = start_process("up", command, dict(os.environ), tmp_path)
        assert process.wait(60) == 1
    log = process.log()
    assert f"HTTP port {port} on 127.0.0.1 is in use" in log
    assert "--port" in log
    assert "Traceback" not in log


def test_up_with_nats_bootstrap(tmp_path: Path) -> None:
    nats_port = free_port()
    process, url = start_up(
        tmp_path,
        "--with-nats-bootstrap",
        "--nats-client-port",
        str(nats_port),
        "--nats-store-dir",
        str(tmp_path / "store"),
    )
    children = children_of(process.pid)
    assert run_seed_flow(url)["status"] == "COMPLETED"
    process.signal(signal.SIGINT)
    assert process.wait(60) == 0
    for child in children:
        wait_until(lambda child=child: not pid_alive(child), 10, f"child {child} to exit")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", nats_port))  # nats-server (under nats-bootstrap) is gone too
