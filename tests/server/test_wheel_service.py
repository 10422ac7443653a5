"""The wheel registry service on the in-memory backend: uploads, conflicts, deletions, history."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pyoco_server.domain.errors import WheelConflict, WheelNotFound
from pyoco_server.memory import MemoryBackend
from pyoco_server.services.binding import WheelCatalog
from pyoco_server.services.wheels import Provenance, Upload, WheelService, object_name
from tests.support.wheels import sha256, wheel_bytes

WHO = Provenance(
    by="api_key:k1",
    actor={"tenant_id": "t", "api_key_id": "k1"},
    source={"remote_addr": "10.0.0.1", "x_forwarded_for": "1.2.3.4", "user_agent": "test"},
)


class Registry:
    def __init__(self, tmp_path: Path, in_use: set[str] | None = None) -> None:
        self.backend = MemoryBackend()
        self.tmp_path = tmp_path
        self.in_use = in_use if in_use is not None else set()
        self.service = WheelService(
            self.backend.wheel_files,
            self.backend.wheel_index,
            self.backend.wheel_history,
            in_use=self.in_use.__contains__,
        )

    def upload(
        self, version: str, *, tags: tuple[str, ...] = (), replace: bool = True, body: str = ""
    ) -> Upload:
        data = wheel_bytes(
            version=version, files={"my_ext/__init__.py": body or f"V = {version!r}\n"}
        )
        name = f"my_ext-{version}-py3-none-any.whl"
        path = self.tmp_path / f"{sha256(data)}-{name}"
        path.write_bytes(data)
        return Upload(name, path, len(data), sha256(data), tags, replace)


def run(coroutine: object) -> object:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


def test_an_upload_stores_the_file_by_content_and_records_the_version(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    upload = registry.upload("0.1.0", tags=("cpu",))

    async def test() -> None:
        stored = await registry.service.upload(upload, WHO)
        assert (stored.distribution, stored.version.version) == ("my-ext", "0.1.0")
        assert stored.version.sha256 == upload.sha256
        assert stored.version.modules == ("my_ext",)
        assert stored.version.uploaded_by == "api_key:k1"
        assert object_name(upload.sha256) in registry.backend.wheel_files.objects
        listed = await registry.service.available()
        assert [s.version.wheel for s in listed] == [upload.filename]
        (event,) = await registry.service.history(limit=10)
        assert (event.action, event.wheel_name, event.sha256_hex) == (
            "upload",
            upload.filename,
            upload.sha256,
        )
        assert event.actor == WHO.actor
        assert event.source == WHO.source

    asyncio.run(test())


def test_equal_and_older_versions_are_refused(tmp_path: Path) -> None:
    registry = Registry(tmp_path)

    async def test() -> None:
        await registry.service.upload(registry.upload("0.2.0"), WHO)
        for number in ("0.2.0", "0.1.0", "0.2"):
            with pytest.raises(WheelConflict) as caught:
                await registry.service.upload(registry.upload(number, body="other"), WHO)
            assert caught.value.reason == "wheel_version_not_higher"
        assert len(registry.backend.wheel_files.objects) == 1  # the refused files were dropped

    asyncio.run(test())


def test_of_two_concurrent_uploads_of_one_version_exactly_one_is_recorded(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    first = registry.upload("0.1.0", body="first = 1\n")
    second = registry.upload("0.1.0", body="second = 2\n")

    async def test() -> None:
        results = await asyncio.gather(
            registry.service.upload(first, WHO),
            registry.service.upload(second, WHO),
            return_exceptions=True,
        )
        conflicts = [r for r in results if isinstance(r, WheelConflict)]
        stored = [r for r in results if not isinstance(r, BaseException)]
        assert len(conflicts) == 1
        assert len(stored) == 1
        record = await registry.backend.wheel_index.get("my-ext")
        assert record is not None
        assert len(record.record.versions) == 1
        assert list(registry.backend.wheel_files.objects) == [
            object_name(stored[0].version.sha256)  # type: ignore[union-attr]
        ]

    asyncio.run(test())


def test_replace_false_refuses_a_new_version_of_a_stored_distribution(tmp_path: Path) -> None:
    registry = Registry(tmp_path)

    async def test() -> None:
        await registry.service.upload(registry.upload("0.1.0", replace=False), WHO)
        with pytest.raises(WheelConflict) as caught:
            await registry.service.upload(registry.upload("0.2.0", replace=False), WHO)
        assert caught.value.reason == "wheel_exists"

    asyncio.run(test())


def test_deleting_the_newest_version_rolls_new_runs_back(tmp_path: Path) -> None:
    registry = Registry(tmp_path)

    async def test() -> None:
        catalog = WheelCatalog(registry.backend)
        catalog.start()
        old = await registry.service.upload(registry.upload("0.1.0"), WHO)
        new = await registry.service.upload(registry.upload("0.2.0"), WHO)
        await asyncio.sleep(0)
        assert [c.version for c in catalog.bind("default")] == ["0.2.0"]
        deleted, current = await registry.service.delete(new.version.wheel, WHO)
        assert (deleted.version.version, current) == ("0.2.0", "0.1.0")
        await asyncio.sleep(0)
        assert [c.sha256 for c in catalog.bind("default")] == [old.version.sha256]
        assert object_name(new.version.sha256) not in registry.backend.wheel_files.objects
        with pytest.raises(WheelNotFound):
            await registry.service.find(new.version.wheel)
        with pytest.raises(WheelConflict):  # a deleted version number is not reused
            await registry.service.upload(registry.upload("0.2.0", body="again"), WHO)
        events = await registry.service.history(limit=10, action="delete")
        assert [e.wheel_name for e in events] == [new.version.wheel]
        await catalog.stop()

    asyncio.run(test())


def test_the_file_of_a_deleted_version_stays_while_runs_are_bound_to_it(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    upload = registry.upload("0.1.0")
    registry.in_use.add(upload.sha256)

    async def test() -> None:
        await registry.service.upload(upload, WHO)
        await registry.service.delete(upload.filename, WHO)
        assert object_name(upload.sha256) in registry.backend.wheel_files.objects

    asyncio.run(test())


def test_a_later_round_removes_the_file_once_no_run_is_bound_to_it(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    old, new = registry.upload("0.1.0"), registry.upload("0.2.0")
    registry.in_use.add(old.sha256)
    files = registry.backend.wheel_files.objects

    async def test() -> None:
        for upload in (old, new):
            await registry.service.upload(upload, WHO)
        await registry.service.delete(old.filename, WHO)
        records = await registry.backend.wheel_index.all()
        await registry.service.drop_unused_files(records)
        assert object_name(old.sha256) in files  # a run not ended is still bound to it
        registry.in_use.clear()
        await registry.service.drop_unused_files(records)
        assert object_name(old.sha256) not in files
        assert object_name(new.sha256) in files  # a live version's file stays, bound or not

    asyncio.run(test())


def test_a_download_writes_the_stored_file(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    upload = registry.upload("0.1.0")

    async def test() -> None:
        await registry.service.upload(upload, WHO)
        target = tmp_path / "downloaded.whl"
        await registry.service.fetch(upload.filename, target)
        assert target.read_bytes() == upload.path.read_bytes()
        with pytest.raises(WheelNotFound):
            await registry.service.fetch("my_ext-9.9.9-py3-none-any.whl", target)

    asyncio.run(test())
