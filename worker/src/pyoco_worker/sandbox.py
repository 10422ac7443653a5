"""What a run process may see and take: a scrubbed environment, exposed variables, its memory.

Run processes execute task code, which is code a tenant chose (from the code an operator
allowed). They must not see the worker's secrets: the NATS URL and credentials, the API-key
pepper, any `PYOCO_*` setting. The fork server they are forked from is started with
`scrubbed()` as its whole environment (so even `/proc/<pid>/environ` holds no secret), and each
run sees the base variables plus, for the duration of the run, the variables its flow.yaml lists
in `runtime.expose_env` that the operator allows (`PYOCO_TASK_ENV`; `PYOCO_*` never). `$env.NAME`
in a flow.yaml resolves only those.

When the worker runs as root and `PYOCO_RUN_AS_USER` names a user, run processes switch to that
user before they run anything, so task code cannot read the worker's files (its NATS credentials
among them). `PYOCO_RUN_MEMORY_MAX_BYTES` bounds the data memory each may map.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import resource
import signal
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

BASE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "PYTHONPATH")
"""The variables a run process keeps from the worker's environment."""

_PR_SET_PDEATHSIG = 1


def scrubbed(environ: Mapping[str, str], extra_paths: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment of the fork server: only `BASE_ENV`, plus `extra_paths` on PYTHONPATH.

    `extra_paths` keeps modules importable that the worker finds through its working directory
    (the fork server's `sys.path` does not follow the worker's).
    """
    env = {name: environ[name] for name in BASE_ENV if name in environ}
    paths = [*extra_paths, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def exposable(environ: Mapping[str, str], allowed: tuple[str, ...]) -> dict[str, str]:
    """The variables the operator lets runs see (`PYOCO_TASK_ENV`), with their values."""
    return {
        name: environ[name] for name in allowed if name in environ and not name.startswith("PYOCO_")
    }


@contextlib.contextmanager
def exposed(allowed: Mapping[str, str], requested: tuple[str, ...]) -> Iterator[None]:
    """While open, `os.environ` also holds the requested variables the operator allows."""
    added = {name: allowed[name] for name in requested if name in allowed}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


@contextlib.contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """While open, this process's environment is exactly `env` (then it is put back)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def become(user: str, workdir: Path) -> None:
    """Switch this process (run as root) to `user`, working in `workdir`.

    The parent-death signal is cleared by a change of user, so it is set again afterwards.
    """
    account = pwd.getpwnam(user)
    os.setgroups([])
    os.setgid(account.pw_gid)
    os.setuid(account.pw_uid)
    os.environ["HOME"] = account.pw_dir
    os.chdir(workdir)
    die_with_parent()


def die_with_parent(signum: int = signal.SIGKILL) -> None:
    """Ask Linux to send `signum` (default: kill) to this process when its parent dies.

    A no-op where `prctl` does not exist.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signum))
    except (OSError, AttributeError):
        pass


def limit_memory(max_bytes: int) -> None:
    """Limit the data memory this process (and what it starts) may map to `max_bytes`.

    `RLIMIT_DATA`: the heap and private writable mappings, thread stacks included. Both the soft
    and the hard limit, so that task code cannot raise it again. 0: no limit; a lower hard limit
    already set is kept.
    """
    if not max_bytes:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        max_bytes = min(max_bytes, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (max_bytes, max_bytes))


class Baseline:
    """A run process's working directory and environment, put back after each run.

    A run's task may change either (`os.chdir`, `os.environ`); the process's next run must not
    start where it left them: a `chdir("/")` made every later run of the process work in `/`,
    where pyoco makes its `artifacts` directory (a run not as root then failed).
    """

    def __init__(self) -> None:
        self._cwd = os.getcwd()
        self._environ = dict(os.environ)
        self._raw = dict(_raw_environ())

    def restore(self) -> None:
        """Go back to the working directory (made again if a task removed it) and environment.

        About 2 µs when nothing changed: the environment is compared as the bytes CPython keeps
        (`os.environ` itself decodes every entry to compare, 35 µs for 36 variables).
        """
        try:
            os.chdir(self._cwd)
        except OSError:
            os.makedirs(self._cwd, exist_ok=True)
            os.chdir(self._cwd)
        if _raw_environ() != self._raw:
            os.environ.clear()
            os.environ.update(self._environ)


def _raw_environ() -> Mapping[Any, Any]:
    """`os.environ` as CPython keeps it (encoded), or decoded where it keeps no such dict."""
    raw: Mapping[Any, Any] | None = getattr(os.environ, "_data", None)
    return raw if raw is not None else dict(os.environ)


def memory_limit_note() -> str:
    """What to add to a `MemoryError`'s description: the limit this process runs under, if any."""
    limit, _ = resource.getrlimit(resource.RLIMIT_DATA)
    if limit == resource.RLIM_INFINITY:
        return ""
    return f" (a run may map {limit} bytes of data memory: PYOCO_RUN_MEMORY_MAX_BYTES)"


def prepare_workdir(workdir: Path, user: str) -> None:
    """Create the run processes' working directory, owned by `user` when one is set."""
    workdir.mkdir(parents=True, exist_ok=True)
    if user and os.geteuid() == 0:
        account = pwd.getpwnam(user)
        os.chown(workdir, account.pw_uid, account.pw_gid)
