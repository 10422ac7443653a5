"""Task callables only tests use (run as `tests.support.tasks:<name>` by real workers)."""

from __future__ import annotations

import os
import signal
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
    os.kill(int(os.environ["PYOCO_WORKER_PID"]), signal.SIGKILL)
    time.sleep(60)
    return x


def flaky(counter_file: str, failures: int) -> int:
    """Fail the first `failures` calls (counted in `counter_file`), then return the call count."""
    path = Path(counter_file)
    calls = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(calls))
    if calls <= failures:
        raise RuntimeError(f"flaky failure {calls} of {failures}")
    return calls
