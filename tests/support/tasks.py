"""Task callables only tests use (run as `tests.support.tasks:<name>` by real workers)."""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path


def fail(x: int) -> int:
    """Raise `ValueError` (a task that always fails)."""
    raise ValueError(f"boom: x was {x}")


def echo(x: object) -> object:
    """Return `x` unchanged."""
    return x


def temp_dir(x: object = None) -> str:
    """The temporary directory this run process uses."""
    return tempfile.gettempdir()


def loaded_modules(names: list[str]) -> list[str]:
    """Which of the modules `names` this run process has imported."""
    return [name for name in names if name in sys.modules]


def collector_settings(x: object = None) -> dict[str, int]:
    """This run process's cycle-collector settings (pyoco_server/heap.py)."""
    return {"young_threshold": gc.get_threshold()[0], "frozen": gc.get_freeze_count()}


def non_json(x: int) -> set[int]:
    """Return a set, which JSON cannot carry as such."""
    return {x, x + 1}


def write_pid(pid_file: str, pid: int) -> None:
    """Write `pid` to `pid_file` whole: a test polling for the file never reads it empty."""
    partial = Path(f"{pid_file}.partial")
    partial.write_text(str(pid))
    partial.replace(pid_file)


def sleep_for(seconds: float, pid_file: str = "") -> float:
    """Sleep `seconds` (after writing this process's id to `pid_file`, if given)."""
    if pid_file:
        write_pid(pid_file, os.getpid())
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


def measure(big_output: str) -> int:
    """The length of `big_output`'s output, received whole."""
    return len(big_output)


def big_error(size: int) -> None:
    """Raise an exception whose message is `size` characters long."""
    raise ValueError("e" * size)


def spawn_and_wait(pid_file: str, seconds: float) -> int:
    """Start a long `sleep` process (writing its pid to `pid_file`), then wait `seconds`."""
    import subprocess

    child = subprocess.Popen(["sleep", "300"])
    write_pid(pid_file, child.pid)
    time.sleep(seconds)
    child.kill()
    return child.pid


def allocate(size: int) -> int:
    """Hold `size` bytes of memory, written to, for a moment; `size`."""
    held = bytearray(size)
    held[::4096] = b"x" * len(held[::4096])
    return len(held)


def raise_memory_limit(x: object = None) -> str:
    """Try to lift this process's data limit; what happened."""
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_DATA, (resource.RLIM_INFINITY,) * 2)
    except (ValueError, OSError) as exc:
        return f"refused: {exc}"
    return "lifted"


def fork_then_die(seconds: float) -> int:
    """Fork a process that lives `seconds` (holding this process's pipes), then die at once."""
    if os.fork() == 0:
        time.sleep(seconds)
        os._exit(0)
    os._exit(3)


CONTROLS = "\x1b[31mred\x1b[0m \x1b]0;retitled\x07 \x1b[2J\tback\rover"
"""A line that colours, retitles and clears a terminal and overwrites itself (`print_controls`)."""


def print_controls(x: object = None) -> int:
    """Print `CONTROLS`."""
    print(CONTROLS)
    return 0


def wander(to: str) -> str:
    """Move this process elsewhere and change its environment; where it was."""
    before = os.getcwd()
    os.chdir(to)
    os.environ["PYOCO_TEST_WANDERED"] = to
    return before


def where(x: object = None) -> list[str | None]:
    """This process's working directory, and what `wander` set in its environment."""
    return [os.getcwd(), os.environ.get("PYOCO_TEST_WANDERED")]


def leave_running(daemon: bool = False) -> dict[str, int]:
    """Start a long `sleep` and return without waiting for it: its pid and this process's.

    With `daemon`, the sleep leaves this process's session, and its parent (a shell) exits at
    once, as a daemon's does.
    """
    import subprocess

    if daemon:
        shell = "setsid sleep 300 > /dev/null 2>&1 & echo $!"
        pid = int(subprocess.run(["sh", "-c", shell], capture_output=True, check=True).stdout)
    else:
        pid = subprocess.Popen(["sleep", "300"]).pid
    return {"left": pid, "run_process": os.getpid()}


MEET_TIMEOUT_SEC = 10.0
"""How long `meet` waits for the other task before it fails."""


def meet(here: str, there: str, value: object = None) -> object:
    """Create the file `here`, then wait for the file `there`; return `value`.

    Two tasks that meet each other (`here` and `there` swapped) both finish only when they run at
    the same time; one that waits for a file a later task creates proves that task started.
    Fails with `TimeoutError` after `MEET_TIMEOUT_SEC`.
    """
    Path(here).touch()
    deadline = time.monotonic() + MEET_TIMEOUT_SEC
    while not Path(there).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{there} did not appear within {MEET_TIMEOUT_SEC} s")
        time.sleep(0.01)
    return value


def pair(first: object = None, second: object = None) -> list[object]:
    """Return `[first, second]` (None for one not given)."""
    return [first, second]


def chatty(x: int) -> int:
    """Print, write to stderr and log at several levels (the task-log tests read it all).

    Ends with a line without its newline, and has a thread of its own print a line (outside
    any task).
    """
    print(f"out {x}")
    print(f"err {x}", file=sys.stderr)
    logger = logging.getLogger("tests.chatty")
    logger.debug("debug %d", x)
    logger.info("info %d", x)
    logger.warning("warning %d", x)
    try:
        raise ValueError("oops")
    except ValueError:
        logger.exception("error %d", x)
    helper = threading.Thread(target=print, args=(f"thread {x}",))
    helper.start()
    helper.join()
    sys.stdout.write(f"partial {x}")
    return x


def chatty_after(chatty: int) -> int:
    """Print one line, after `chatty`."""
    print(f"after {chatty}")
    return chatty


def talk(lines: int, width: int = 10, pause_sec: float = 0.0, go_file: str = "") -> int:
    """Print `lines` numbered lines of `width` characters, `pause_sec` apart.

    With `go_file`, wait (up to 30 s) for that file to exist after the first line.
    """
    for number in range(lines):
        print(str(number).rjust(width, "."), flush=True)
        if go_file and number == 0:
            deadline = time.monotonic() + 30
            while not Path(go_file).exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        time.sleep(pause_sec)
    return lines


def print_in_fork(x: int, out_file: str) -> int:
    """Fork a process that prints (its stdout to `out_file`) and exits, wait for it, then print.

    The fork's line is not the run's: it goes to the fork's own stdout.
    """
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(out_file, os.O_WRONLY | os.O_CREAT, 0o600), 1)
        print(f"from the fork {x}", flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
    print(f"after the fork {x}")
    return x
