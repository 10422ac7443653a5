"""Installing registry wheels on a worker (pyoco_worker/installs.py), with the real uv."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from pyoco_server.domain.records import CodeVersion
from pyoco_server.memory import MemoryBackend
from pyoco_server.services.wheels import object_name
from pyoco_worker.installs import Installer, Unusable
from tests.support.wheels import build_wheel, sha256, wheel_bytes


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real wheel of `my_ext` 0.1.0, built with uv."""
    return build_wheel(
        tmp_path_factory.mktemp("build"), "my_ext", "0.1.0", "def shout(x):\n    return f'v1:{x}'\n"
    )


def stored(backend: MemoryBackend, path: Path, name: str | None = None) -> CodeVersion:
    data = path.read_bytes()
    digest = sha256(data)
    backend.wheel_files.objects[object_name(digest)] = (data, {})
    return CodeVersion("my-ext", "0.1.0", digest, name or path.name)


def installer(tmp_path: Path, backend: MemoryBackend) -> Installer:
    return Installer(tmp_path / "wheels", backend.wheel_files, timeout=60)


def test_a_wheel_is_installed_into_a_directory_named_by_its_content(
    tmp_path: Path, built: Path
) -> None:
    backend = MemoryBackend()
    code = stored(backend, built)

    async def test() -> Path:
        return await installer(tmp_path, backend).install(code)

    target = asyncio.run(test())
    assert target.name == code.sha256
    output = subprocess.run(
        [sys.executable, "-c", "import my_ext; print(my_ext.shout('x'))"],
        env={"PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert output.stdout.strip() == "v1:x"


def test_two_installs_of_one_wheel_end_with_one_directory(tmp_path: Path, built: Path) -> None:
    backend = MemoryBackend()
    code = stored(backend, built)

    async def test() -> list[Path]:
        one, other = installer(tmp_path, backend), installer(tmp_path, backend)
        return list(await asyncio.gather(one.install(code), other.install(code)))

    first, second = asyncio.run(test())
    assert first == second
    assert first.is_dir()
    leftovers = [
        p.name for p in (tmp_path / "wheels" / "installs").iterdir() if p.name.startswith(".")
    ]
    assert leftovers == []


def test_content_that_is_not_what_the_registry_recorded_is_refused(
    tmp_path: Path, built: Path
) -> None:
    backend = MemoryBackend()
    code = stored(backend, built)
    backend.wheel_files.objects[object_name(code.sha256)] = (b"tampered" + built.read_bytes(), {})
    with pytest.raises(Unusable, match="SHA-256"):
        asyncio.run(installer(tmp_path, backend).install(code))
    assert not (tmp_path / "wheels" / "installs" / code.sha256).exists()


def test_a_wheel_for_another_platform_is_skipped_with_the_reason(tmp_path: Path) -> None:
    backend = MemoryBackend()
    data = wheel_bytes()
    code = CodeVersion("my-ext", "0.1.0", sha256(data), "my_ext-0.1.0-cp27-cp27m-win32.whl")
    backend.wheel_files.objects[object_name(code.sha256)] = (data, {})
    with pytest.raises(Unusable, match="unsupported wheel tags"):
        asyncio.run(installer(tmp_path, backend).install(code))


def test_a_requirement_nobody_provides_is_reported(tmp_path: Path) -> None:
    backend = MemoryBackend()
    data = wheel_bytes(requires=("surely-not-installed-anywhere>=1",))
    code = CodeVersion("my-ext", "0.1.0", sha256(data), "my_ext-0.1.0-py3-none-any.whl")
    backend.wheel_files.objects[object_name(code.sha256)] = (data, {})
    with pytest.raises(Unusable, match="surely-not-installed-anywhere"):
        asyncio.run(installer(tmp_path, backend).install(code))
    # provided by another wheel of the run: it installs
    target = asyncio.run(
        installer(tmp_path, backend).install(code, {"surely-not-installed-anywhere"})
    )
    assert (target / "my_ext" / "__init__.py").is_file()


def test_a_wheel_gone_from_the_registry_is_reported(tmp_path: Path) -> None:
    code = CodeVersion("my-ext", "0.1.0", "0" * 64, "my_ext-0.1.0-py3-none-any.whl")
    with pytest.raises(Unusable, match="no longer in the registry"):
        asyncio.run(installer(tmp_path, MemoryBackend()).install(code))
