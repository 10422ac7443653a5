"""Whether the task code run processes loaded is still the code on disk, and what follows.

Run processes report the task files they imported (taskfiles.py). Before a process takes a run,
the pool asks `CodeWatch.usable`; a worker never mixes versions of a task module:

- with reload on (`pyoco-worker --reload`, the default under `pyoco-server up`), a process
  that loaded a file which changed since (or is gone) is retired, and a fresh one takes the
  run: every run starts on the code on disk when it is given to a process. Only the files of
  that process are looked at (one stat each, before each run);
- with reload off, every process keeps the version of each file that the worker's processes of
  the tenant loaded first: those files are pinned in the others (their sources go with the
  next run), so a fresh process started later, after a crash or a timeout, runs the same code.
  The worker warns once per changed file that it keeps the code it loaded. A process that
  loaded another version anyway (the file changed while two processes imported it for the
  first time) is retired before its next run. The files are looked at as with reload on, but
  at most once a second per process.

The fork server imports no task code with reload on (pool.py), so fresh processes import
everything from disk.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence

from pyoco_worker.taskfiles import CodeFile, stamp_of

log = logging.getLogger(__name__)

MAX_FILES = 10_000
"""The most task files followed per run process (more are not followed, with a warning)."""

LOOK_INTERVAL_SEC = 1.0
"""With reload off, how often a process's files are looked at (only to warn)."""


@dataclasses.dataclass
class Loaded:
    """The task files one run process loaded (kept on its handle, `RunProcess.loaded`)."""

    files: dict[str, CodeFile] = dataclasses.field(default_factory=dict)
    pins_sent: int = 0
    """How many of its tenant's pins the process has been sent (pins are only added)."""
    other_version: bool = False
    """With reload off: it loaded a version of a file other than the pinned one."""
    looked_at: float = 0.0
    """With reload off: when its files were last looked at (monotonic; 0: not since it
    reported new ones)."""


class CodeWatch:
    """The pool's view of the task files its run processes loaded (see the module docstring)."""

    def __init__(self, reload: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.reload = reload
        self._clock = clock
        self._pins: dict[str | None, dict[str, CodeFile]] = {}
        self._warned: set[str] = set()
        self._announced: set[tuple[str, int, int]] = set()
        self._full = False

    def learn(self, loaded: Loaded, tenant: str | None, files: Sequence[CodeFile]) -> None:
        """Note the files a process of `tenant` reported (each as it loaded it)."""
        for file in files:
            if len(loaded.files) >= MAX_FILES and file.path not in loaded.files:
                self._too_many()
                return
            loaded.files[file.path] = dataclasses.replace(file, source=None)
            loaded.looked_at = 0.0  # new files are looked at before its next run
            if self.reload:
                continue
            pinned = self._pins.setdefault(tenant, {}).setdefault(file.path, file)
            if pinned.stamp != file.stamp:
                loaded.other_version = True

    def usable(self, loaded: Loaded) -> bool:
        """Whether a process that loaded `loaded` may take a run (else it is retired).

        One stat per file it loaded: with reload on, a changed file retires it; with reload
        off, where the look is only for a warning (the process keeps its version), at most
        once a second per process.
        """
        if not self.reload:
            now = self._clock()
            if now < loaded.looked_at + LOOK_INTERVAL_SEC and loaded.looked_at:
                return not loaded.other_version
            loaded.looked_at = now
        for file in loaded.files.values():
            if stamp_of(file.path) == file.stamp:
                continue
            if self.reload:
                self._announce(file)
                return False
            self._warn(file)
        return self.reload or not loaded.other_version

    def pins_for(self, loaded: Loaded, tenant: str | None) -> tuple[CodeFile, ...]:
        """The pins a process of `tenant` has not been sent yet (none with reload on)."""
        pins = self._pins.get(tenant)
        if self.reload or pins is None or loaded.pins_sent == len(pins):
            return ()
        new = list(pins.values())[loaded.pins_sent :]
        loaded.pins_sent = len(pins)
        return tuple(file for file in new if file.path not in loaded.files)

    def _announce(self, file: CodeFile) -> None:
        key = (file.path, *file.stamp)
        if key not in self._announced:
            self._announced.add(key)
            log.info(
                "task module %s changed on disk (%s); run processes that loaded it are "
                "replaced before their next run",
                file.module,
                file.path,
            )

    def _warn(self, file: CodeFile) -> None:
        if file.path not in self._warned:
            self._warned.add(file.path)
            log.warning(
                "task module %s changed on disk (%s); this worker keeps running the code it "
                "loaded: restart it or run it with --reload",
                file.module,
                file.path,
            )

    def _too_many(self) -> None:
        if not self._full:
            self._full = True
            log.warning(
                "a run process imported more than %d task files; the others are not followed",
                MAX_FILES,
            )
