"""Wheel sync: a worker installs the registry's wheels for its tags, and those its runs need.

The worker follows the wheel index (a feed: no polling). After every change (and every
PYOCO_WHEEL_SYNC_INTERVAL_SEC, which retries what failed) it installs, in the background, the newest version of each distribution available to one of its tags (untagged
wheels are for every worker), so that the code is ready before the runs bound to it arrive. A run
is bound to exact versions at submit (its job's `code`); `prepared` installs any of them not yet
here (an older version for a run queued before an upload, say), or says why it cannot. Deleted
versions are removed as soon as no run process uses them (a run still bound to one installs it
again from the registry, which keeps its file while queued or running runs need it). Other
versions that no run process uses and that are not the newest for a tag are removed, least
recently used first, while the installs take more than PYOCO_WHEEL_CACHE_MAX_BYTES.

The state (installed, skipped with the reason, last error) goes into the worker's registry
record, so `GET /workers` shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from pyoco_server.aio import cancel_all
from pyoco_server.domain.codec import WHEEL_INDEX
from pyoco_server.domain.errors import BackendUnavailable, DecodeError
from pyoco_server.domain.records import (
    CodeVersion,
    SkippedWheel,
    WheelIndexRecord,
    WheelState,
)
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.wheels import current_versions
from pyoco_server.ports import Backend, Bucket
from pyoco_worker.execution import NO_CODE, CodeUnavailable, Installed
from pyoco_worker.installs import Installer, Unusable

log = logging.getLogger(__name__)

_ERROR_CHARS = 2000


class WheelSync:
    """Keeps this worker's wheels in line with the registry (see the module docstring)."""

    def __init__(
        self,
        backend: Backend,
        settings: Settings,
        tags: Sequence[str],
        *,
        in_use: Callable[[], set[str]] = set,
        on_change: Callable[[WheelState], None] = lambda _state: None,
    ) -> None:
        self._tags = tuple(tags)
        self._in_use = in_use
        self._on_change = on_change
        self._cache_max = settings.wheel_cache_max_bytes
        self._interval = settings.wheel_sync_interval_sec
        self.installer = Installer(
            Path(settings.wheel_sync_dir).resolve(),
            backend.wheel_files,
            settings.wheel_install_timeout_sec,
        )
        self._index: dict[str, WheelIndexRecord] = {}
        self._modules: dict[str, tuple[str, ...]] = {}
        self._feed = backend.follow(Bucket.WHEEL_INDEX, self._on_put, self._on_delete)
        self._wake = asyncio.Event()
        self._held: Counter[str] = Counter()
        """Wheels (sha256) runs are being started with: never evicted."""
        self._lingering: set[str] = set()
        """Deleted versions still installed because a run process used them at the last sync."""
        self._task: asyncio.Task[None] | None = None
        self._installs: set[asyncio.Task[Installed]] = set()
        """Runs' installs, which go on if the run that asked is stopped meanwhile."""
        self.state = WheelState(enabled=True)

    async def start(self) -> None:
        """Follow the index and sync in the background."""
        self._feed.start()
        self._task = asyncio.create_task(self._loop(), name="wheel-sync")

    async def stop(self) -> None:
        """Stop following and syncing."""
        await self._feed.stop()
        await cancel_all([*self._installs, *([self._task] if self._task is not None else [])])

    @contextlib.asynccontextmanager
    async def prepared(self, code: Sequence[CodeVersion]) -> AsyncIterator[Installed]:
        """Install what a run is bound to (if needed); its paths and modules.

        They stay on disk until the block ends (eviction skips them).

        Raises:
            CodeUnavailable: a wheel cannot be installed here (the message says why).
        """
        if not code:
            yield NO_CODE
            return
        held = [bound.sha256 for bound in code]
        self._held.update(held)
        try:
            # Shielded: a run stopped while its wheels install leaves the install to finish,
            # for the runs after it (which would otherwise restart it each time).
            yield await asyncio.shield(self._in_background(self._install(code)))
        finally:
            self._held.subtract(held)
            self._held = +self._held  # drop what no run holds any more
            if self._lingering:
                self._wake.set()  # a deleted version may be free to remove now

    def _in_background(self, install: Coroutine[Any, Any, Installed]) -> asyncio.Task[Installed]:
        task = asyncio.create_task(install)
        self._installs.add(task)
        task.add_done_callback(_forget(self._installs))
        return task

    async def _install(self, code: Sequence[CodeVersion]) -> Installed:
        provided = {bound.distribution for bound in code}
        paths = []
        for bound in code:
            try:
                paths.append(str(await self.installer.install(bound, provided)))
            except (Unusable, BackendUnavailable, OSError) as exc:
                raise CodeUnavailable(f"{bound.wheel}: {exc}") from exc
        modules = sorted({module for bound in code for module in self.modules_of(bound)})
        return Installed(tuple(b.sha256 for b in code), tuple(paths), tuple(modules))

    def modules_of(self, code: CodeVersion) -> tuple[str, ...]:
        """The top-level modules `code` provides (from the index)."""
        record = self._index.get(code.distribution)
        for version in record.versions if record else ():
            if version.sha256 == code.sha256:
                return version.modules
        return self._modules.get(code.sha256, ())

    def _on_put(self, key: str, value: bytes, _revision: int) -> None:
        try:
            record = WHEEL_INDEX.decode(value)
        except DecodeError as exc:
            log.warning("wheel index record %s ignored: %s", key, exc)
            return
        self._index[key] = record
        for version in record.versions:
            self._modules[version.sha256] = version.modules
        self._wake.set()

    def _on_delete(self, key: str, _revision: int) -> None:
        self._index.pop(key, None)
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            await self.sync()

    async def sync(self) -> None:
        """Install the newest wheels for this worker's tags; remove what is not needed."""
        wanted = self._wanted()
        installed, skipped, errors = [], [], []
        for code in wanted:
            try:
                await self.installer.install(code, {c.distribution for c in wanted})
                installed.append(code)
            except Unusable as exc:
                skipped.append(SkippedWheel(code.wheel, str(exc)))
                log.warning("wheel %s skipped: %s", code.wheel, exc)
            except (BackendUnavailable, OSError) as exc:
                errors.append(f"{code.wheel}: {exc}")
        # What to keep is read here, on the loop that changes it; the disk work runs in a thread.
        keep = {code.sha256 for code in wanted} | self._in_use() | set(self._held)
        self._lingering = await asyncio.to_thread(self._evict, keep, _deleted_versions(self._index))
        error = "; ".join(errors)[:_ERROR_CHARS] or None
        self.state = WheelState(True, tuple(installed), tuple(skipped), error, time.time())
        self._on_change(self.state)

    def _wanted(self) -> list[CodeVersion]:
        """The newest version of each distribution for any of this worker's tags."""
        found: dict[str, CodeVersion] = {}
        for tag in self._tags:
            for code in current_versions(self._index, tag):
                found.setdefault(code.sha256, code)
        return sorted(found.values(), key=lambda code: code.wheel)

    def _evict(self, keep: set[str], deleted: set[str]) -> set[str]:
        """Remove deleted versions, then the least recently used over the cache limit.

        Returns the deleted versions kept because something still uses them.
        """
        installed = self.installer.installed()
        for sha256 in (deleted & installed.keys()) - keep:
            self.installer.remove(sha256)
            del installed[sha256]
        total = sum(size for _, size in installed.values())
        for sha256, (_, size) in sorted(installed.items(), key=lambda item: item[1][0]):
            if total <= self._cache_max:
                break
            if sha256 not in keep:
                self.installer.remove(sha256)
                total -= size
        return deleted & installed.keys()


def _forget(installs: set[asyncio.Task[Installed]]) -> Callable[[asyncio.Task[Installed]], None]:
    """A done callback: drop the task, its error seen (whoever awaited it reported it)."""

    def forget(task: asyncio.Task[Installed]) -> None:
        installs.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("an install ended with: %s", task.exception())

    return forget


def _deleted_versions(index: dict[str, WheelIndexRecord]) -> set[str]:
    """The contents (sha256) of deleted versions that no live version shares."""
    deleted: set[str] = set()
    live: set[str] = set()
    for record in index.values():
        for version in record.versions:
            (deleted if version.deleted else live).add(version.sha256)
    return deleted - live


def disabled_state() -> WheelState:
    """What a worker without wheel sync reports."""
    return WheelState(enabled=False)
