"""Shared fixtures: a real nats-server per test, the gateway and workers as real processes.

Layers: `nats_server` (a nats-server on a random loopback port, store in tmp_path) → `settings`
(pointing at it) → `gateway` (uvicorn child serving the gateway, response validation on) and
`start_worker` (pyoco-worker children). Every process is stopped by its PID on teardown.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pyoco_server.natsserver import NatsServer
from pyoco_server.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

FLOW_YAML = b"""\
version: 1
flow:
  graph: |
    add_one >> to_text
  defaults:
    x: 1
tasks:
  add_one:
    callable: pyoco_server._workflow_test_tasks:add_one
  to_text:
    callable: pyoco_server._workflow_test_tasks:to_text
"""
"""The seed README's flow.yaml."""


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, what: str = "") -> object:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(0.01)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Process:
    """A child process started by a test, with its output in a log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            self.popen.send_signal(signum)

    def wait(self, timeout: float = 30.0) -> int:
        return self.popen.wait(timeout)

    def stop(self, timeout: float = 30.0) -> int:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode


def start_process(name: str, args: Sequence[str], env: dict[str, str], log_dir: Path) -> Process:
    log_path = log_dir / f"{name}-{time.monotonic_ns()}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            list(args),
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return Process(name, popen, log_path)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No PYOCO_* variable or .env file of the developer leaks into a test."""
    for name in list(os.environ):
        if name.startswith("PYOCO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PYOCO_LOAD_DOTENV", "0")


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings_env(nats_server: NatsServer) -> dict[str, str]:
    """Environment variables of the deployment under test (tests may add to it)."""
    return {
        "PYOCO_NATS_URL": nats_server.url,
        "PYOCO_LOAD_DOTENV": "0",
        "PYOCO_LOG_LEVEL": "info",
    }


@pytest.fixture
def settings(settings_env: dict[str, str]) -> Settings:
    return Settings.from_env(settings_env)


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment for a child process of the deployment."""
    return {**os.environ, **settings.to_env(), "PYTHONUNBUFFERED": "1", **extra}


@dataclass
class Gateway:
    url: str
    process: Process

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(**{"base_url": self.url, "timeout": 10.0, **kwargs})  # type: ignore[arg-type]


def start_gateway(settings: Settings, log_dir: Path, **extra_env: str) -> Gateway:
    port = free_port()
    env = process_env(settings, PYOCO_HTTP_VALIDATE_RESPONSES="1", **extra_env)
    process = start_process(
        "gateway",
        [sys.executable, "-m", "pyoco_server.gateway", "--port", str(port)],
        env,
        log_dir,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until(
        lambda: http_ok(f"{url}/health") or (not process.alive() and pytest.fail(process.log())),
        timeout=30,
        what="the gateway",
    )
    return Gateway(url, process)


@pytest.fixture
def gateway(settings: Settings, tmp_path: Path) -> Iterator[Gateway]:
    """The gateway as a uvicorn child process on a free port, response validation on."""
    gateway = start_gateway(settings, tmp_path)
    yield gateway
    gateway.process.stop()


WorkerFactory = Callable[..., Process]


@pytest.fixture
def start_worker(settings: Settings, tmp_path: Path) -> Iterator[WorkerFactory]:
    """Start `pyoco-worker` children; each is ready (consuming) when this returns."""
    started: list[Process] = []

    def start(
        *,
        tags: Sequence[str] = ("default",),
        worker_id: str = "w1",
        args: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> Process:
        command = [
            sys.executable,
            "-m",
            "pyoco_worker.cli",
            "--tags",
            ",".join(tags),
            "--worker-id",
            worker_id,
            *args,
        ]
        process = start_process(
            f"worker-{worker_id}", command, process_env(settings, **(env or {})), tmp_path
        )
        started.append(process)
        wait_until(
            lambda: (
                "serving tags" in process.log()
                or (not process.alive() and pytest.fail(process.log()))
            ),
            timeout=30,
            what=f"worker {worker_id}",
        )
        return process

    yield start
    for process in started:
        process.stop()


TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})


def wait_terminal(client: httpx.Client, run_id: str, timeout: float = 30.0) -> dict[str, object]:
    """Poll GET /runs/{run_id}?include=records until the run is terminal; the snapshot."""

    def terminal() -> dict[str, object] | None:
        response = client.get(f"/runs/{run_id}", params={"include": "records"})
        response.raise_for_status()
        body: dict[str, object] = response.json()
        return body if body["status"] in TERMINAL else None

    return wait_until(terminal, timeout, f"run {run_id} to end")  # type: ignore[return-value]
