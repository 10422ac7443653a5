"""Shared fixtures: a real nats-server per test, the gateway and workers as real processes.

Layers: `nats_server` (a nats-server on a random loopback port, store in tmp_path) → `settings`
(pointing at it) → `gateway` (uvicorn child serving the gateway, response validation on) and
`start_worker` (pyoco-worker children). Every process is stopped by its PID on teardown.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from pyoco_server.domain.settings import Settings
from pyoco_server.local.natsserver import NatsServer
from tests.support import serial
from tests.support.cli import Admin, run_admin
from tests.support.processes import (
    Gateway,
    Process,
    WorkerFactory,
    free_port,
    process_env,
    start_gateway,
    start_process,
    stop_started,
    worker_command,
)
from tests.support.waiting import wait_until


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """Run a `serial` test alone, beside no other xdist worker's test (tests/support/serial.py)."""
    with serial.turn(item):
        yield


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PYOCO_* variable or .env file of the developer leaks into a test, nor a run index
    cache into the user's cache directory."""
    for name in list(os.environ):
        if name.startswith("PYOCO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PYOCO_LOAD_DOTENV", "0")
    monkeypatch.setenv("PYOCO_INDEX_DIR", str(tmp_path / "index-cache"))


@pytest.fixture(autouse=True)
def _no_process_outlives_its_test() -> Iterator[None]:
    """Whatever a test does (a failed assertion before its own cleanup included), every process
    it started is stopped when it ends."""
    yield
    stop_started()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def restartable_nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server on a fixed port, so that after a restart it is back where clients look."""
    server = NatsServer(tmp_path / "nats", port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings_env(nats_server: NatsServer, tmp_path: Path) -> dict[str, str]:
    """Environment variables of the deployment under test (tests may add to it)."""
    return {
        "PYOCO_NATS_URL": nats_server.url,
        "PYOCO_INDEX_DIR": str(tmp_path / "index-cache"),
        "PYOCO_LOAD_DOTENV": "0",
        "PYOCO_LOG_LEVEL": "info",
        "PYOCO_TASK_MODULES": "tests.support.tasks",
    }


@pytest.fixture
def settings(settings_env: dict[str, str]) -> Settings:
    return Settings.from_env(settings_env)


@pytest.fixture
def admin(settings: Settings) -> Admin:
    """Run `pyoco-server-admin` against the test's NATS."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return run_admin(settings, *args, **env)

    return run


@pytest.fixture
def gateway(settings: Settings, tmp_path: Path) -> Iterator[Gateway]:
    """The gateway as a uvicorn child process on a free port, response validation on."""
    gateway = start_gateway(settings, tmp_path)
    yield gateway
    gateway.process.stop()


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
        own_group: bool = False,
        script: bool = False,
    ) -> Process:
        process = start_process(
            f"worker-{worker_id}",
            worker_command(tags, worker_id, args, script=script),
            process_env(settings, **(env or {})),
            tmp_path,
            own_group=own_group,
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
