"""Children that do not outlive the process that started them (Linux).

`pyoco-server up` and the tests start nats-server, gateway and worker processes in sessions of
their own (so that a terminal's Ctrl-C reaches only the parent, which stops them in order). If
the parent is killed outright (SIGKILL, an OOM kill, a CI timeout), nothing would stop them; with
a parent-death signal the kernel does.
"""

from __future__ import annotations

import ctypes
import signal
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A `preexec_fn` for `subprocess.Popen` that asks for `signum` when the parent dies.

    libc is loaded here, in the parent: the function that runs between fork and exec makes one
    system call and takes no lock. None (no `preexec_fn`) where prctl is not available.

    Linux sends the signal when the *thread* that started the child ends, not only the
    process: start such children from a thread that lives as long as they should (the main
    thread, not `asyncio.to_thread`).
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def set_parent_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, signum)

    return set_parent_death_signal
