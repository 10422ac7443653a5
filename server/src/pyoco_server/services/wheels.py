"""The wheel registry: uploads, listing, downloads, deletions and their history.

An upload is checked (`domain.wheels.inspect_wheel`), its file stored by content
(`sha256-<hex>`), then recorded in its distribution's index record with a compare-and-set: of
two concurrent uploads of one version exactly one is recorded, and the other gets 409 (its file is
removed again unless another version has the same content). A deletion marks the version deleted
in the same way, so new runs are bound to the previous version; the file is removed at once
unless a queued or running run is bound to it (`in_use`, answered by the gateway's run view),
else by a later `drop_unused_files` (each gateway calls it every reaper round) once none is.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version

from pyoco_server.domain.cas import compare_and_set
from pyoco_server.domain.errors import (
    BackendUnavailable,
    InvalidWheel,
    WheelConflict,
    WheelNotFound,
)
from pyoco_server.domain.records import WheelHistoryEvent, WheelIndexRecord, WheelVersion
from pyoco_server.domain.wheels import inspect_wheel, newer, parse_wheel_name
from pyoco_server.ports import StoredWheelIndex, WheelFiles, WheelHistory, WheelIndex

log = logging.getLogger(__name__)

HISTORY_SCAN = 2000
"""Newest history records a history listing reads at most."""

InUse = Callable[[str], bool]


def object_name(sha256: str) -> str:
    """The object store name of a wheel file: its content."""
    return f"sha256-{sha256}"


@dataclasses.dataclass(frozen=True, slots=True)
class Upload:
    """A received wheel file, and what the uploader asked."""

    filename: str
    path: Path
    size: int
    sha256: str
    tags: tuple[str, ...]
    replace: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Provenance:
    """Who made a change and from where (for the record and the history)."""

    by: str | None = None
    actor: Mapping[str, Any] | None = None
    source: Mapping[str, Any] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class StoredWheel:
    """A version as the API shows it: its distribution and the version record."""

    distribution: str
    version: WheelVersion


class WheelService:
    """Uploads, lists, serves and deletes wheels (see the module docstring)."""

    def __init__(
        self,
        files: WheelFiles,
        index: WheelIndex,
        history: WheelHistory,
        *,
        in_use: InUse = lambda _sha256: False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._files = files
        self._index = index
        self._history = history
        self._in_use = in_use
        self._clock = clock
        self._dropped: set[str] = set()
        """Files of deleted versions this process removed (or found gone)."""

    async def upload(self, upload: Upload, who: Provenance) -> StoredWheel:
        """Store and record a new version.

        Raises:
            InvalidWheel: the file is not the wheel its name says (422).
            WheelConflict: the version is not higher than every stored one, or `replace` is
                false and the distribution has a version (409).
        """
        info = await asyncio.to_thread(inspect_wheel, upload.path, upload.filename)
        distribution = canonicalize_name(info.name.distribution)
        version = WheelVersion(
            version=info.name.version,
            wheel=upload.filename,
            sha256=upload.sha256,
            size_bytes=upload.size,
            tags=upload.tags,
            modules=info.modules,
            uploaded_at=self._clock(),
            requires_dist=info.requires_dist,
            requires_python=info.requires_python,
            uploaded_by=who.by,
        )
        _check_upload(await self._index.get(distribution), distribution, version, upload.replace)
        await self._files.put(
            object_name(upload.sha256), upload.path, _headers(distribution, version)
        )
        try:
            await self._record_upload(distribution, version, upload.replace)
        except BaseException:
            await self._drop_file_unless_used(distribution, version.sha256)
            raise
        await self._note(
            _event("upload", distribution, version, who, self._clock(), upload.replace)
        )
        return StoredWheel(distribution, version)

    async def _record_upload(self, distribution: str, version: WheelVersion, replace: bool) -> None:
        async def attempt() -> None:
            stored = await self._index.get(distribution)
            _check_upload(stored, distribution, version, replace)
            versions = stored.record.versions if stored else ()
            record = WheelIndexRecord(distribution, (*versions, version))
            await self._index.put(record, stored.revision if stored else None)

        await compare_and_set(attempt, what=f"the wheel index of {distribution}")

    async def available(self) -> list[StoredWheel]:
        """Every version not deleted, by file name."""
        found = [
            StoredWheel(record.distribution, version)
            for record in await self._index.all()
            for version in record.versions
            if not version.deleted
        ]
        return sorted(found, key=lambda stored: stored.version.wheel)

    async def find(self, wheel_name: str) -> StoredWheel:
        """The version stored under `wheel_name` (`WheelNotFound` when there is none)."""
        stored = await self._stored(wheel_name)
        version = _version_named(stored.record, wheel_name) if stored else None
        if stored is None or version is None or version.deleted:
            raise WheelNotFound(wheel_name)
        return StoredWheel(stored.record.distribution, version)

    async def fetch(self, wheel_name: str, target: Path) -> StoredWheel:
        """Write the wheel to `target` (`WheelNotFound` when there is none)."""
        found = await self.find(wheel_name)
        if not await self._files.fetch(object_name(found.version.sha256), target):
            log.error("wheel %s is in the index but its file is missing", wheel_name)
            raise WheelNotFound(wheel_name)
        return found

    async def delete(self, wheel_name: str, who: Provenance) -> tuple[StoredWheel, str | None]:
        """Mark the version deleted; the deleted version and the version now current (if any)."""
        found = await self.find(wheel_name)
        distribution = found.distribution

        async def attempt() -> WheelIndexRecord:
            stored = await self._stored(wheel_name)
            version = _version_named(stored.record, wheel_name) if stored else None
            if stored is None or version is None or version.deleted:
                raise WheelNotFound(wheel_name)
            marked = dataclasses.replace(version, deleted_at=self._clock())
            versions = tuple(marked if v is version else v for v in stored.record.versions)
            record = WheelIndexRecord(distribution, versions)
            await self._index.put(record, stored.revision)
            return record

        record = await compare_and_set(attempt, what=f"the wheel index of {distribution}")
        await self._drop_file_unless_used(distribution, found.version.sha256)
        await self._note(_event("delete", distribution, found.version, who, self._clock(), None))
        return found, _current(record)

    async def history(
        self, *, limit: int, wheel_name: str | None = None, action: str | None = None
    ) -> list[WheelHistoryEvent]:
        """Uploads and deletions, newest first, filtered."""
        events = await self._history.recent(HISTORY_SCAN)
        kept = [
            event
            for event in events
            if wheel_name in (None, event.wheel_name) and action in (None, event.action)
        ]
        return kept[:limit]

    async def _stored(self, wheel_name: str) -> StoredWheelIndex | None:
        """The index record of the wheel's distribution (None for a name no wheel can have)."""
        try:
            name = parse_wheel_name(wheel_name)
        except InvalidWheel:
            return None
        return await self._index.get(canonicalize_name(name.distribution))

    async def drop_unused_files(self, records: Iterable[WheelIndexRecord]) -> None:
        """Remove the files of deleted versions (`records`: the wheel index) no run needs now.

        A deletion leaves the file while runs not ended are bound to it; this removes it once
        none is. A NATS outage ends the round early: the next round tries again.
        """
        for sha256 in deleted_files(records) - self._dropped:
            if self._in_use(sha256):
                continue
            try:
                await self._files.delete(object_name(sha256))
            except BackendUnavailable as exc:
                log.warning("wheel file %s not removed: %s", sha256, exc)
                return
            self._dropped.add(sha256)

    async def _drop_file_unless_used(self, distribution: str, sha256: str) -> None:
        """Remove a file no live version and no queued or running run needs any more."""
        try:
            stored = await self._index.get(distribution)
            kept = stored is not None and any(
                v.sha256 == sha256 and not v.deleted for v in stored.record.versions
            )
            if not kept and not self._in_use(sha256):
                await self._files.delete(object_name(sha256))
        except BackendUnavailable as exc:
            log.warning("wheel file %s not removed: %s", sha256, exc)

    async def _note(self, event: WheelHistoryEvent) -> None:
        try:
            await self._history.publish(event)
        except BackendUnavailable as exc:
            log.error("wheel history event not recorded (%s): %s", event.action, exc)


def _check_upload(
    stored: StoredWheelIndex | None, distribution: str, version: WheelVersion, replace: bool
) -> None:
    versions = stored.record.versions if stored else ()
    if not newer(version.version, [v.version for v in versions]):
        highest = max((v.version for v in versions), key=Version)
        raise WheelConflict(
            "wheel_version_not_higher",
            f"{distribution} {version.version} is not higher than {highest}, already uploaded "
            "(deleted versions count too); upload a higher version",
        )
    if not replace and any(not v.deleted for v in versions):
        raise WheelConflict(
            "wheel_exists",
            f"{distribution} already has a version and replace is false; upload with "
            "replace=true (--replace) to make this one current",
        )


def deleted_files(records: Iterable[WheelIndexRecord]) -> set[str]:
    """The content (SHA-256) of every deleted version's file that no live version shares."""
    deleted: set[str] = set()
    live: set[str] = set()
    for record in records:
        for version in record.versions:
            (deleted if version.deleted else live).add(version.sha256)
    return deleted - live


def _version_named(record: WheelIndexRecord, wheel_name: str) -> WheelVersion | None:
    return next((v for v in record.versions if v.wheel == wheel_name), None)


def _current(record: WheelIndexRecord) -> str | None:
    live = [v.version for v in record.versions if not v.deleted]
    return max(live, key=Version) if live else None


def _headers(distribution: str, version: WheelVersion) -> dict[str, str]:
    return {
        "sha256": version.sha256,
        "distribution": distribution,
        "version": version.version,
        "wheel": version.wheel,
    }


def _event(
    action: str,
    distribution: str,
    version: WheelVersion,
    who: Provenance,
    now: float,
    replace: bool | None,
) -> WheelHistoryEvent:
    return WheelHistoryEvent(
        event_id=uuid.uuid4().hex,
        occurred_at=now,
        action=action,
        wheel_name=version.wheel,
        tags=version.tags,
        distribution=distribution,
        version=version.version,
        size_bytes=version.size_bytes,
        sha256_hex=version.sha256,
        replace=replace,
        actor=who.actor,
        source=who.source,
    )
