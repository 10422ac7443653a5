"""What a run leaves: its process's children killed, its directory and environment put back.

`leftovers.stop_children` and `sandbox.Baseline`. Each case of the first runs in a forked
process of its own, made a subreaper as a run process is: the test process has children of its
own (nats-server) that must not be touched.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from pyoco_worker import leftovers, sandbox

Setup = Callable[[], list[int]]
"""Starts processes in the forked process; the pids that must be gone afterwards."""


def _in_fork(setup: Setup, answer: Connection) -> None:
    leftovers.adopt_orphans()
    pids = setup()
    started = time.monotonic()
    stopped, remaining = leftovers.stop_children()
    took = time.monotonic() - started
    still = [pid for pid in pids if _exists(pid)]
    answer.send((stopped, remaining, still, took))


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_in_fork(setup: Setup) -> tuple[int, bool, list[int], float]:
    """What `stop_children` did in a forked subreaper after `setup`."""
    ours, theirs = multiprocessing.get_context("fork").Pipe()
    process = multiprocessing.get_context("fork").Process(target=_in_fork, args=(setup, theirs))
    process.start()
    assert ours.poll(30), "the forked process did not answer"
    result: tuple[int, bool, list[int], float] = ours.recv()
    process.join(10)
    return result


def nothing() -> list[int]:
    return []


def an_ended_child() -> list[int]:
    child = subprocess.Popen(["true"])
    while _state(child.pid) != "Z":  # ended, not reaped
        time.sleep(0.001)
    return [child.pid]


def a_running_child() -> list[int]:
    return [subprocess.Popen(["sleep", "300"]).pid]


def a_child_with_its_own() -> list[int]:
    """A shell running one sleep in the background and one in front.

    Killing the shell orphans the first, which then becomes this process's child.
    """
    shell = subprocess.Popen(["sh", "-c", "sleep 300 & echo $! && exec sleep 301"], stdout=-1)
    assert shell.stdout is not None
    return [shell.pid, int(shell.stdout.readline())]


def a_daemon() -> list[int]:
    """A sleep that left the session, its parent gone: this process's child by adoption."""
    shell = "setsid sleep 300 > /dev/null 2>&1 & echo $!"
    return [int(subprocess.run(["sh", "-c", shell], capture_output=True, check=True).stdout)]


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
        return stat.read().rpartition(")")[2].split()[0]


@pytest.mark.parametrize(
    ("setup", "running"),
    [
        (nothing, 0),
        (an_ended_child, 0),
        (a_running_child, 1),
        (a_child_with_its_own, 2),
        (a_daemon, 1),
    ],
    ids=["nothing", "ended", "running", "with-its-own", "daemon"],
)
def test_every_child_and_what_it_leaves_is_stopped(setup: Setup, running: int) -> None:
    stopped, remaining, still, took = stop_in_fork(setup)
    assert (stopped, remaining, still) == (running, False, [])
    assert took < leftovers.STOP_WAIT_SEC


def test_children_are_found_without_the_lists_of_children(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a kernel without CONFIG_PROC_CHILDREN, every process's parent is read instead."""
    original = leftovers._children_by_parent
    monkeypatch.setattr(leftovers, "_children", original)
    stopped, remaining, still, _ = stop_in_fork(a_child_with_its_own)
    assert (stopped, remaining, still) == (2, False, [])


def test_a_run_process_goes_back_to_its_directory_and_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """After a run that moved, changed its environment, and removed its working directory."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("PYOCO_TEST_KEPT", "1")
    baseline = sandbox.Baseline()

    os.chdir(tmp_path)
    work.rmdir()
    os.environ["PYOCO_TEST_ADDED"] = "1"
    del os.environ["PYOCO_TEST_KEPT"]
    baseline.restore()

    assert Path.cwd() == work
    assert os.environ.get("PYOCO_TEST_KEPT") == "1"
    assert "PYOCO_TEST_ADDED" not in os.environ
