"""Processes a run leaves running: stopped when the run ends, before it is reported ended.

A task may start a process and return without waiting for it (`subprocess.Popen`, `cmd &`, a
daemon that forks twice and leaves the session). Such a process outlived its run, and its
worker too: a `sleep` a task started was still running after `pyoco-server up` stopped, its
parent init. A run that is stopped (cancel, timeout, shutdown) has its process group killed
(pool.py), but a run that ended on its own left its processes to run on.

Now a run process is a child subreaper (Linux's `PR_SET_CHILD_SUBREAPER`): a descendant whose
parent dies becomes the run process's child, not init's, so after a run every process it left
is a child of the run process. After each run, `stop_children` asks the kernel for an ended
child (one system call); none at all is the usual answer and costs nothing more. Otherwise the
children are found (/proc), killed and reaped, until none is left: the children of a killed one
become the run process's own and come next. CI runners clean up a job's orphans the same way.
A daemon that left the group of a run that is killed while running is out of reach: its parent's
death gives it to the subreaper above, or init.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import time

log = logging.getLogger(__name__)

_PR_SET_CHILD_SUBREAPER = 36

STOP_WAIT_SEC = 5.0
"""How long `stop_children` waits for killed processes to end (one stuck in the kernel may not)."""


def adopt_orphans() -> None:
    """Become the parent of this process's orphaned descendants (Linux; a no-op elsewhere)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1)
    except (OSError, AttributeError):
        pass


def stop_left_running() -> None:
    """After a run: stop what it left running, saying so in the run's log (a warning)."""
    stopped, remaining = stop_children()
    if stopped:
        log.warning(
            "the run left %d process(es) running; they were killed as it ended (a task must "
            "wait for the processes it starts)",
            stopped,
        )
    if remaining:
        log.warning("the run left processes running that could not be stopped")


def stop_children(wait_sec: float = STOP_WAIT_SEC) -> tuple[int, bool]:
    """Kill and reap every child of this process: how many were running, and whether any remain.

    Children that had ended already are only reaped. A child still there after `wait_sec` (one
    stuck in the kernel, or children forked faster than they are killed), or one that cannot be
    listed (no /proc), is left to the caller.
    """
    killed: set[int] = set()
    deadline = time.monotonic() + wait_sec
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return len(killed), False  # none left (the usual answer, at the first call)
        if pid:
            continue  # reaped one: look again
        if time.monotonic() > deadline:
            return len(killed), True
        running = [pid for pid in _children() if pid not in killed]
        for pid in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        if not running:
            if not killed:
                return 0, True  # a child this process cannot list
            time.sleep(0.001)  # the killed ones are ending


def _children() -> list[int]:
    """This process's children, from each thread's list in /proc ([] without /proc)."""
    pids: list[int] = []
    try:
        threads = os.listdir("/proc/self/task")
    except OSError:
        return pids
    listed = False
    for thread in threads:
        try:
            with open(f"/proc/self/task/{thread}/children", encoding="ascii") as children:
                pids.extend(int(pid) for pid in children.read().split())
            listed = True
        except OSError:
            continue  # the thread ended meanwhile, or the kernel lacks the lists
    return pids if listed else _children_by_parent()


def _children_by_parent() -> list[int]:
    """This process's children, read from every process's /proc status.

    For a kernel without CONFIG_PROC_CHILDREN, which has no lists of children.
    """
    me = str(os.getpid())
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 1 and fields[1] == me:
            pids.append(int(entry))
    return pids
