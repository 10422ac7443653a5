"""Where a gateway process keeps its run index: a SQLite file of its own, kept across restarts.

One directory per NATS deployment and runs bucket under PYOCO_INDEX_DIR, and in it one file per
process slot: a process takes the first slot whose lock no live process holds (an advisory
`flock`, released when the process ends however it ends), so the several processes of
`--workers` each keep and resume their own file, and a restarted one finds a warm file again.
Sharing one file between processes was weighed and left out: each process must know a run's
summary before each change for its event streams, which a file another process writes cannot
tell it; the per-process files cost disk, not memory (services/indexdb.py).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from pathlib import Path

from pyoco_server.domain.settings import MEMORY_INDEX, Settings
from pyoco_server.services.index import MEMORY

log = logging.getLogger(__name__)

MAX_SLOTS = 64


class IndexCache:
    """The run index file this process holds (`path` is `MEMORY` without one)."""

    def __init__(self, settings: Settings) -> None:
        self.path = MEMORY
        self._lock: int | None = None
        if settings.index_dir == MEMORY_INDEX:
            return
        identity = f"{settings.nats_url}|{settings.runs_kv_bucket}".encode()
        folder = Path(settings.index_dir) / hashlib.sha256(identity).hexdigest()[:16]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._claim(folder)
        except OSError as exc:
            log.warning("run index cache unusable in %s (%s); keeping it in memory", folder, exc)

    def _claim(self, folder: Path) -> None:
        for slot in range(MAX_SLOTS):
            fd = os.open(folder / f"runs-{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self._lock = fd
            self.path = str(folder / f"runs-{slot}.sqlite3")
            log.info("run index cache: %s", self.path)
            return
        log.warning("every run index slot in %s is taken; keeping it in memory", folder)

    def release(self) -> None:
        """Let another process take the slot (after the index is closed)."""
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None
