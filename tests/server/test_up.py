"""`pyoco-server up`: embedded NATS, gateway and worker as one command, stopped as one."""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from pyoco_server.domain.settings import Settings
from pyoco_server.local.natsserver import NatsServer
from pyoco_server.local.up import Stack, StartupError, UpOptions, check_exposure
from tests.support.flows import FLOW_YAML
from tests.support.processes import (
    children_of,
    free_port,
    http_ok,
    pid_alive,
    start_process,
    start_up,
)
from tests.support.waiting import TERMINAL, wait_until


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


@pytest.mark.parametrize(
    ("host", "auth_mode", "insecure", "allowed"),
    [
        ("127.0.0.1", "none", False, True),
        ("127.0.0.2", "none", False, True),
        ("localhost", "none", False, True),
        ("::1", "none", False, True),
        ("0.0.0.0", "none", False, False),
        ("192.168.1.10", "none", False, False),
        ("::", "none", False, False),
        ("0.0.0.0", "api_key", False, True),
        ("0.0.0.0", "none", True, True),
    ],
)
def test_a_public_address_needs_keys_or_insecure(
    host: str, auth_mode: str, insecure: bool, allowed: bool
) -> None:
    settings = Settings.from_env({"PYOCO_LOAD_DOTENV": "0", "PYOCO_HTTP_AUTH_MODE": auth_mode})
    options = UpOptions(host=host, insecure=insecure)
    if allowed:
        check_exposure(options, settings)
    else:
        with pytest.raises(StartupError, match="--insecure"):
            check_exposure(options, settings)


@pytest.mark.parametrize(("reload", "flag"), [(True, "--reload"), (False, "--no-reload")])
def test_the_local_worker_reloads_changed_task_code_unless_told_not_to(
    reload: bool, flag: str
) -> None:
    settings = Settings.from_env({"PYOCO_LOAD_DOTENV": "0"})
    assert UpOptions().worker_reload is True

    command = Stack(UpOptions(worker_reload=reload), settings)._worker_command()

    assert flag in command
