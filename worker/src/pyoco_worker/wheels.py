"""Wheel sync: a worker installs the registry's wheels for its tags, and those its runs need.

The worker follows the wheel index (a feed: no polling). After every change it installs, in the
background, the newest version of each distribution available to one of its tags (untagged
wheels are for every worker), so that the code is ready before the runs bound to it arrive. A run
is bound to exact versions at submit (its job's `code`); `prepare` installs any of them not yet
here (an older version for a run queued before an upload, say), or says why it cannot. Installed
versions that no run process uses and that are not the newest for a tag are removed, least
recently used first, while the installs take more than PYOCO_WHEEL_CACHE_MAX_BYTES.

The state (installed, skipped with the reason, last error) goes into the worker's registry
record, so `GET /workers` shows it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

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
        self.installer = Installer(
            Path(settings.wheel_sync_dir).resolve(),
            backend.wheel_files,
            settings.wheel_install_timeout_sec,
        )
        self._index: dict[str, WheelIndexRecord] = {}
        self._modules: dict[str, tuple[str, ...]] = {}
        self._feed = backend.follow(Bucket.WHEEL_INDEX, self._on_put, self._on_delete)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.state = WheelState(enabled=True)

    async def start(self) -> None:
        """Follow the index and sync in the background."""
        self._feed.start()
        self._task = asyncio.create_task(self._loop(), name="wheel-sync")

    async def stop(self) -> None:
        """Stop following and syncing."""
        await self._feed.stop()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def prepare(self, code: Sequence[CodeVersion]) -> Installed:
        """Install what a run is bound to (if needed); its paths and modules.

        Raises:
            CodeUnavailable: a wheel cannot be installed here (the message says why).
        """
        if not code:
            return NO_CODE
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
            await self._wake.wait()
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
        await asyncio.to_thread(self._evict, {code.sha256 for code in wanted})
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

    def _evict(self, wanted: set[str]) -> None:
        keep = wanted | self._in_use()
        installed = self.installer.installed()
        total = sum(size for _, size in installed.values())
        for sha256, (_, size) in sorted(installed.items(), key=lambda item: item[1][0]):
            if total <= self._cache_max:
                return
            if sha256 not in keep:
                self.installer.remove(sha256)
                total -= size


def disabled_state() -> WheelState:
    """What a worker without wheel sync reports."""
    return WheelState(enabled=False)
