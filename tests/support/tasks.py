"""Task callables only tests use (run as `tests.support.tasks:<name>` by real workers)."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path


def fail(x: int) -> int:
    """Raise `ValueError` (a task that always fails)."""
    raise ValueError(f"boom: x was {x}")


def echo(x: object) -> object:
    """Return `x` unchanged."""
    return x


def non_json(x: int) -> set[int]:
    """Return a set, which JSON cannot carry as such."""
    return {x, x + 1}


def sleep_for(seconds: float, pid_file: str = "") -> float:
    """Sleep `seconds` (after writing this process's id to `pid_file`, if given)."""
    if pid_file:
        Path(pid_file).write_text(str(os.getpid()))
    time.sleep(seconds)
    return seconds


def crash(x: int) -> int:
    """End this process at once with exit code 1, as a crashing extension would."""
    os._exit(1)


def kill_worker(x: int) -> int:
    """Kill the worker supervising this run (SIGKILL), as a fatal fault of the host would."""
    os.kill(_worker_pid(), signal.SIGKILL)
    time.sleep(60)
    return x


def _worker_pid() -> int:
    """The nearest ancestor that is a `pyoco-worker` (run processes start from its forkserver).

    Run processes get a scrubbed environment, so the worker's pid is found through /proc.
    """
    pid = os.getppid()
    while pid > 1:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        worker = b"pyoco_worker" in cmdline or b"pyoco-worker" in cmdline
        if worker and b"forkserver" not in cmdline:
            return pid
        stat = Path(f"/proc/{pid}/stat").read_text()
        pid = int(stat.rpartition(")")[2].split()[1])
    raise RuntimeError("no pyoco-worker among this process's ancestors")


def flaky(counter_file: str, failures: int) -> int:
    """Fail the first `failures` calls (counted in `counter_file`), then return the call count."""
    path = Path(counter_file)
    calls = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(calls))
    if calls <= failures:
        raise RuntimeError(f"flaky failure {calls} of {failures}")
    return calls


def reach_nats(url: str) -> str:
    """Connect to NATS at `url` as task code could (no credentials); the server's first answer.

    Speaks the protocol over a plain socket: INFO, then CONNECT and PING; `+OK`/`PONG` means
    the server took the connection, `-ERR ...` that it refused it.
    """
    host, _, port = url.removeprefix("nats://").rpartition(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        stream = connection.makefile("rwb")
        stream.readline()  # INFO {...}
        stream.write(b'CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n')
        stream.flush()
        return stream.readline().decode().strip()


def who_am_i(secret_file: str) -> dict[str, object]:
    """This process's user id, and whether it can read `secret_file`."""
    try:
        Path(secret_file).read_bytes()
        readable = True
    except PermissionError:
        readable = False
    return {"uid": os.geteuid(), "readable": readable}


def effect(effects: str, mark: str, seconds: float = 0.0) -> int:
    """After `seconds`, append a line to `effects/mark`: one line per execution of the task.

    The fault tests count the lines to tell a side effect that happened once from one repeated.
    """
    time.sleep(seconds)
    path = Path(effects) / mark
    with path.open("a") as file:
        file.write(f"{os.getpid()}\n")
    return len(path.read_text().splitlines())


def big_output(size: int) -> str:
    """A text of `size` characters."""
    return "o" * size


def big_error(size: int) -> None:
    """Raise an exception whose message is `size` characters long."""
    raise ValueError("e" * size)


def spawn_and_wait(pid_file: str, seconds: float) -> int:
    """Start a long `sleep` process (writing its pid to `pid_file`), then wait `seconds`."""
    import subprocess

    child = subprocess.Popen(["sleep", "300"])
    Path(pid_file).write_text(str(child.pid))
    time.sleep(seconds)
    child.kill()
    return child.pid
