"""Tests marked `serial` run alone, even when pytest-xdist runs the others side by side.

The suite runs on two xdist workers (`-n 2` in pyproject.toml). The fault and cluster tests
freeze, kill and restart servers under load and bound how long clients stall: another test's
processes on the same two cores would only blur what they measure. Every test holds a lock
file for its whole run (setup to teardown): shared for most, exclusive for a `serial` one, so
a serial test waits for the test running beside it to end, and nothing starts beside it.

An exclusive waiter could starve behind shared holders that keep taking the lock in turn, so a
test first passes a turnstile: a serial test holds the turnstile while it waits, and the next
test waits at the turnstile instead of taking the shared lock.

Without xdist there is nothing to share and no lock is taken.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

MARKER = "serial"


def _lock_dir() -> Path | None:
    """The directory of this run's locks, one per xdist test run; None without xdist."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run:
        return None
    return Path(tempfile.gettempdir()) / f"pyoco-tests-{run}"


@contextlib.contextmanager
def _locked(path: Path, mode: int) -> Iterator[None]:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, mode)
        yield
    finally:
        os.close(descriptor)  # releases the lock


@contextlib.contextmanager
def turn(item: pytest.Item) -> Iterator[None]:
    """Hold the run's lock for `item`: exclusive if it is marked serial, else shared."""
    where = _lock_dir()
    if where is None:
        yield
        return
    where.mkdir(exist_ok=True)
    turnstile, room = where / "turnstile", where / "room"
    if item.get_closest_marker(MARKER) is not None:
        with _locked(turnstile, fcntl.LOCK_EX), _locked(room, fcntl.LOCK_EX):
            yield
        return
    with _locked(turnstile, fcntl.LOCK_EX):
        pass
    with _locked(room, fcntl.LOCK_SH):
        yield
