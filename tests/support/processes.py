"""Child processes of the deployment under test: the gateway, workers, and their environment.

Every process a test starts binds 127.0.0.1 only and is stopped by its PID on teardown.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pyoco_server.domain.settings import Settings
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (children run there, so `tests.support...` is importable in them)."""

BIN = Path(sys.executable).parent
"""The directory of the project's console scripts (pyoco-client, pyoco-server, ...)."""


WorkerFactory = Callable[..., "Process"]
"""The `start_worker` fixture: `start_worker(*, tags, worker_id, args, env, own_group, script)
-> Process`."""


_PORTS_START = 20000
_PORTS_PER_PROCESS = 1500
_next_port = itertools.count(random.randrange(_PORTS_PER_PROCESS))  # another run's gw0: elsewhere


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, that no other test process hands out.

    A port the kernel picks (bind to port 0) is one it may give again, before the test's
    server binds it, to another process binding port 0, such as a nats-server of the other
    xdist worker: the gateway then could not start, and its health check reached NATS. So each
    test process hands out the ports of a range of its own, below the kernel's ephemeral range
    (32768 and up), in turn, skipping those in use.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    first = _PORTS_START + _PORTS_PER_PROCESS * (int(worker) % 8 if worker.isdigit() else 0)
    for _ in range(_PORTS_PER_PROCESS):
        port = first + next(_next_port) % _PORTS_PER_PROCESS
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{first + _PORTS_PER_PROCESS - 1}")


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


_STARTED: list[Process] = []
"""Every process started by the current test (stopped when it ends, see `stop_started`)."""


def stop_started() -> None:
    """Stop every process the current test started and left running (by PID, never others)."""
    while _STARTED:
        _STARTED.pop().stop()


def start_process(
    name: str,
    args: Sequence[str],
    env: dict[str, str],
    log_dir: Path,
    cwd: Path = ROOT,
    *,
    own_group: bool = False,
) -> Process:
    """Start a child of the test; it is stopped when the test ends, whatever happens.

    With `own_group`, the child leads a process group of its own (as a service under systemd
    or a command in a terminal does), which a test may signal as a whole.
    """
    log_path = log_dir / f"{name}-{time.monotonic_ns()}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            list(args),
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            process_group=0 if own_group else None,
        )
    process = Process(name, popen, log_path)
    _STARTED.append(process)
    return process


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


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
    """The gateway as a uvicorn child process on a free port, response validation on."""
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


def worker_command(
    tags: Sequence[str], worker_id: str, args: Sequence[str] = (), *, script: bool = False
) -> list[str]:
    """The command line of a `pyoco-worker` child: `python -m pyoco_worker.cli`, or with
    `script` the console script."""
    program = [str(BIN / "pyoco-worker")] if script else [sys.executable, "-m", "pyoco_worker.cli"]
    return [
        *program,
        "--tags",
        ",".join(tags),
        "--worker-id",
        worker_id,
        *args,
    ]


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False  # gone between the two looks
    return state != "Z"


def children_of(pid: int) -> list[int]:
    """The ids of the child processes of `pid`."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(child) for child in task.read_text().split()]
    return found


def start_up(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> tuple[Process, str]:
    """`pyoco-server up ARGS` on a free HTTP port, once it says it is up; it and its URL."""
    port = free_port()
    command = [sys.executable, "-m", "pyoco_server.cli.server", "up", "--port", str(port), *args]
    process = start_process("up", command, {**os.environ, **(env or {})}, tmp_path, cwd)
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
