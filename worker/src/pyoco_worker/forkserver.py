"""The fork server of a worker's run processes: it outlives group signals, but not its worker.

Run processes are forked by multiprocessing's fork server, which the worker starts once. Two
things must hold for runs in flight:

- a SIGTERM, SIGINT or SIGHUP sent to the worker's whole process group (a terminal's Ctrl-C)
  or control group (systemd's default stop) is the worker's to handle: it finishes the runs in
  flight within its shutdown grace. Left to its default action, the signal would kill the fork
  server, and with it (by their parent-death signal) every run process, mid-run;
- nothing of the worker outlives it: when the worker dies (SIGKILL, the OOM killer), the fork
  server kills the process group of every run process it forked (the run and any process its
  tasks started), then exits.

The worker imports this module into the fork server (it is in the fork server's preload list)
and says which process is the worker through `GUARD_VARIABLE`; imported anywhere else, the
module does nothing. With reload off, the worker also names its flow resolver
(`RESOLVER_VARIABLE`): the fork server loads it once, with its task files recorded
(taskfiles.py), and every run process uses that copy, so all of them run one version of it.
With reload on, the fork server imports no task code: each run process loads it from disk.
"""

from __future__ import annotations

import contextlib
import multiprocessing.util
import os
import signal
import tempfile
from pathlib import Path
from types import FrameType

from pyoco_worker import sandbox, taskfiles
from pyoco_worker.flows import FlowResolver, ResolverError, load_resolver

GUARD_VARIABLE = "PYOCO_FORKSERVER_OF"
"""Set (to the worker's pid) in the environment the fork server is started with."""

RESOLVER_VARIABLE = "PYOCO_FORKSERVER_RESOLVER"
"""Set (to the `--flow-resolver` spec) when the fork server is to load the resolver."""

WORKER_DIED = signal.SIGUSR1
"""The fork server's parent-death signal."""

_preloaded: tuple[str, FlowResolver] | None = None

_UNIX_PATH_MAX = 107
"""The longest path of a Unix socket (`sun_path` holds 108 bytes with the closing NUL)."""
_SOCKET_UNDER_TEMP = len("/pymp-12345678/listener-12345678")
"""What multiprocessing adds to the temporary directory to name the fork server's socket."""
_SHORT_TEMP = "/tmp"


def fit_socket_path() -> None:
    """Make sure the fork server's socket path fits, whatever TMPDIR is.

    multiprocessing names the socket inside a `pymp-` directory of the worker's temporary
    directory, once per process. Under a TMPDIR longer than about 74 bytes (a deep service or
    CI directory) the path no longer fits a Unix socket and the worker could not start ("AF_UNIX
    path too long"). That directory is then made under /tmp instead. Only multiprocessing's own
    files go there; the run processes still get TMPDIR as set.
    """
    length = len(os.fsencode(tempfile.gettempdir())) + _SOCKET_UNDER_TEMP
    if length <= _UNIX_PATH_MAX or not os.path.isdir(_SHORT_TEMP):
        return
    saved = tempfile.tempdir
    tempfile.tempdir = _SHORT_TEMP
    try:
        multiprocessing.util.get_temp_dir()  # made now, kept for the process, removed at exit
    finally:
        tempfile.tempdir = saved


def preloaded_resolver(spec: str) -> FlowResolver | None:
    """The flow resolver `spec` as the fork server loaded it, if it did."""
    if _preloaded is not None and _preloaded[0] == spec:
        return _preloaded[1]
    return None


def ignore_group_stops() -> None:
    """Take SIGTERM, SIGINT and SIGHUP without dying (the worker decides what they mean).

    A handler, not SIG_IGN: an ignored disposition would be inherited across `exec` by every
    program the tasks start, which then could not be stopped with SIGTERM.
    """
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _noted)


def _noted(_signum: int, _frame: FrameType | None) -> None:
    """A stop signal meant for the worker."""


def _kill_children_and_exit(_signum: int, _frame: FrameType | None) -> None:
    """The worker died: kill each run process's group, then leave."""
    me = os.getpid()
    for child in _children(me):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child, signal.SIGKILL)
    os._exit(0)


def _children(parent: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{parent}/task").glob("*/children"):
        with contextlib.suppress(OSError, ValueError):
            found += [int(pid) for pid in task.read_text().split()]
    return found


def _install() -> None:
    worker = os.environ.pop(GUARD_VARIABLE, None)
    resolver = os.environ.pop(RESOLVER_VARIABLE, None)
    if worker is None or worker != str(os.getppid()):
        return
    ignore_group_stops()
    signal.signal(WORKER_DIED, _kill_children_and_exit)
    sandbox.die_with_parent(WORKER_DIED)
    if os.getppid() != int(worker):  # the worker died before the request took effect
        _kill_children_and_exit(WORKER_DIED, None)
    if resolver:
        _preload_resolver(resolver)


def _preload_resolver(spec: str) -> None:
    global _preloaded
    imports = taskfiles.recorder(keep_sources=True)
    imports.record_resolver(spec)
    with contextlib.suppress(ResolverError):  # each run process tries again, and says why
        _preloaded = (spec, load_resolver(spec))


_install()
