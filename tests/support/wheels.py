"""Wheels for tests: written as zips in a few milliseconds, or built for real with `uv build`.

`wheel_bytes` writes what the registry checks (METADATA, the modules); `build_wheel` makes a
package with a task function and builds it with uv, as a user would (about a second), for the
tests that install and run it.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

WHEEL = "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def wheel_bytes(
    name: str = "my_ext",
    version: str = "0.1.0",
    *,
    metadata_name: str | None = None,
    metadata_version: str | None = None,
    files: dict[str, str] | None = None,
    metadata: bool = True,
    requires: tuple[str, ...] = (),
) -> bytes:
    """A wheel (zip) of `name` `version`; METADATA may say otherwise (to test the checks)."""
    buffer = io.BytesIO()
    info = f"{name}-{version}.dist-info"
    contents = (
        files if files is not None else {f"{name}/__init__.py": "def shout(x):\n    return x\n"}
    )
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in contents.items():
            archive.writestr(path, text)
        if metadata:
            lines = [
                "Metadata-Version: 2.1",
                f"Name: {metadata_name or name}",
                f"Version: {metadata_version or version}",
                *(f"Requires-Dist: {requirement}" for requirement in requires),
            ]
            archive.writestr(f"{info}/METADATA", "\n".join(lines) + "\n")
        archive.writestr(f"{info}/WHEEL", WHEEL)
        archive.writestr(f"{info}/RECORD", "")
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_wheel(workdir: Path, name: str, version: str, body: str) -> Path:
    """Build package `name` `version` (its `__init__.py` is `body`) with `uv build`; the wheel."""
    project = workdir / f"{name}-{version}"
    package = project / "src" / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(body)
    (project / "pyproject.toml").write_text(
        f"""[project]
name = "{name}"
version = "{version}"
description = "A task wheel for pyoco-server's tests."
requires-python = ">=3.11"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["src/{name}"]
"""
    )
    uv = shutil.which("uv") or "uv"
    subprocess.run(
        [uv, "build", "--wheel", "--quiet", "--out-dir", str(project / "dist"), str(project)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    (wheel,) = (project / "dist").glob("*.whl")
    return wheel
