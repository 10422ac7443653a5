"""Installing registry wheels on a worker: content-addressed, verified, never changed in place.

Each wheel is downloaded to `files/<sha256>/<wheel file name>`, its SHA-256 checked against the one the registry
recorded, and installed with `uv pip install --target installs/<sha256> --no-deps --no-index`
into a temporary directory that is renamed into place once complete, so a run never sees a
half-installed wheel and two installers of one wheel end with one directory. Installed
directories are only ever added or removed whole; run processes put them on `sys.path`.

A wheel this worker cannot use is skipped, with the reason: its platform tags or Python version,
or a `Requires-Dist` that neither the worker's environment nor the other wheels of the run
provide (dependencies come from the registry, so an offline worker works).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.metadata
import os
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable
from email.message import Message
from email.parser import Parser
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import sys_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

from pyoco_server.domain.records import CodeVersion
from pyoco_server.ports import WheelFiles

_OBJECT_PREFIX = "sha256-"


class Unusable(Exception):
    """A wheel this worker cannot install; the message says why, for a person."""


class Installer:
    """Downloads, verifies and installs wheels under `root` (files/, installs/)."""

    def __init__(self, root: Path, files: WheelFiles, timeout: float) -> None:
        self.root = root
        self._files = files
        self._timeout = timeout
        self._locks: dict[str, asyncio.Lock] = {}
        self._supported = frozenset(sys_tags())
        (root / "files").mkdir(parents=True, exist_ok=True)
        (root / "installs").mkdir(parents=True, exist_ok=True)

    def installed_path(self, sha256: str) -> Path:
        """Where the wheel with this content is (or would be) installed."""
        return self.root / "installs" / sha256

    def is_installed(self, sha256: str) -> bool:
        """True when the wheel is installed here."""
        return self.installed_path(sha256).is_dir()

    def check_compatible(self, wheel: str) -> None:
        """Raise `Unusable` when this interpreter and platform cannot use `wheel`."""
        _name, _version, _build, tags = parse_wheel_filename(wheel)
        if not tags & self._supported:
            wanted = ", ".join(sorted(str(tag) for tag in tags)[:3])
            here = next(iter(sys_tags()))
            raise Unusable(f"unsupported wheel tags ({wanted}); this worker is {here}")

    async def install(self, code: CodeVersion, provided: Iterable[str] = ()) -> Path:
        """Install `code` (if it is not already); its directory.

        `provided` are the distributions the run's other wheels provide, which may satisfy its
        requirements.

        Raises:
            Unusable: it cannot be installed here (the message says why).
        """
        lock = self._locks.setdefault(code.sha256, asyncio.Lock())
        async with lock:
            target = self.installed_path(code.sha256)
            if target.is_dir():
                _touch(target)
                return target
            self.check_compatible(code.wheel)
            wheel = await self._download(code)
            await asyncio.to_thread(_check_requirements, wheel, set(provided))
            await self._run_installer(wheel, target)
            return target

    async def _download(self, code: CodeVersion) -> Path:
        path = self.root / "files" / code.sha256 / code.wheel
        if path.is_file() and await asyncio.to_thread(_sha256, path) == code.sha256:
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{code.wheel}.")
        os.close(descriptor)
        partial = Path(name)
        try:
            if not await self._files.fetch(_OBJECT_PREFIX + code.sha256, partial):
                raise Unusable(f"{code.wheel} is no longer in the registry")
            found = await asyncio.to_thread(_sha256, partial)
            if found != code.sha256:
                raise Unusable(
                    f"{code.wheel}: downloaded content has SHA-256 {found}, not {code.sha256}"
                )
            await asyncio.to_thread(partial.replace, path)
        except BaseException:
            await asyncio.to_thread(partial.unlink, missing_ok=True)
            raise
        return path

    async def _run_installer(self, wheel: Path, target: Path) -> None:
        scratch = Path(tempfile.mkdtemp(dir=self.root / "installs", prefix=".tmp-"))
        command = [
            _uv(),
            "pip",
            "install",
            "--python",
            sys.executable,
            "--target",
            str(scratch),
            "--no-deps",
            "--no-index",
            "--link-mode",
            "copy",
            "--quiet",
            str(wheel),
        ]
        try:
            process = await asyncio.create_subprocess_exec(
                *command,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env={**os.environ, "UV_NO_CACHE": "1", "UV_PYTHON_DOWNLOADS": "never"},
            )
            try:
                output, _ = await asyncio.wait_for(process.communicate(), self._timeout)
            except TimeoutError:
                process.kill()
                await process.wait()
                raise Unusable(
                    f"installing {wheel.name} took over {self._timeout:g}s "
                    "(PYOCO_WHEEL_INSTALL_TIMEOUT_SEC)"
                ) from None
            except asyncio.CancelledError:  # the worker stops: uv must not outlive it
                process.kill()
                await asyncio.shield(process.wait())
                raise
            if process.returncode != 0:
                text = output.decode(errors="replace").strip().splitlines()
                raise Unusable(f"uv could not install it: {' '.join(text[-3:])}")
            _finish(scratch, target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def remove(self, sha256: str) -> None:
        """Remove an installed wheel and its file (it is in use by no run process)."""
        shutil.rmtree(self.installed_path(sha256), ignore_errors=True)
        shutil.rmtree(self.root / "files" / sha256, ignore_errors=True)

    def installed(self) -> dict[str, tuple[float, int]]:
        """Installed wheels: sha256 -> (last used, size in bytes)."""
        found = {}
        for path in (self.root / "installs").iterdir():
            if path.is_dir() and not path.name.startswith("."):
                found[path.name] = (path.stat().st_mtime, _size(path))
        return found


def _finish(scratch: Path, target: Path) -> None:
    """Move a complete install into place (another installer may have won: keep theirs)."""
    try:
        scratch.rename(target)
    except OSError:
        if not target.is_dir():
            raise


def _uv() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:
        found = shutil.which("uv")
        if found is None:
            raise Unusable("uv is not installed on this worker (pip install uv)") from None
        return found
    return str(find_uv_bin())


def _check_requirements(wheel: Path, provided: set[str]) -> None:
    metadata = _metadata(wheel)
    requires_python = metadata.get("Requires-Python")
    if requires_python:
        try:
            if sys.version.split()[0] not in SpecifierSet(requires_python):
                raise Unusable(
                    f"requires Python {requires_python}; this worker has {sys.version.split()[0]}"
                )
        except InvalidSpecifier:
            pass
    for text in metadata.get_all("Requires-Dist") or ():
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        if name in provided or _installed_here(requirement):
            continue
        raise Unusable(
            f"requires {text}, which neither this worker's environment nor the registry "
            "wheels of the run provide (upload it to the registry too)"
        )


def _installed_here(requirement: Requirement) -> bool:
    try:
        version = importlib.metadata.version(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return requirement.specifier.contains(version, prereleases=True)


def _metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(
            entry
            for entry in archive.namelist()
            if entry.count("/") == 1 and entry.endswith(".dist-info/METADATA")
        )
        return Parser().parsestr(archive.read(name).decode("utf-8", errors="replace"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        now = time.time()
        os.utime(path, (now, now))


def _size(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
