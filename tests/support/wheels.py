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
import sys
import zipfile
from pathlib import Path

import httpx

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
    # hatchling comes from the dev environment, so building needs no network.
    command = [uv, "build", "--wheel", "--quiet", "--no-build-isolation", "--python"]
    command += [sys.executable, "--out-dir", str(project / "dist"), str(project)]
    subprocess.run(
        command,
        check=True,
        timeout=120,
        capture_output=True,
    )
    (wheel,) = (project / "dist").glob("*.whl")
    return wheel


def upload(
    client: httpx.Client,
    data: bytes,
    filename: str,
    *,
    tags: str | None = None,
    replace: bool | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST /wheels with `data` as file `filename` (multipart, as curl -F and the CLI send it)."""
    form: dict[str, str] = {}
    if tags is not None:
        form["tags"] = tags
    if replace is not None:
        form["replace"] = "true" if replace else "false"
    return client.post(
        "/wheels", files={"wheel": (filename, data)}, data=form, headers=headers or {}
    )


def task_wheel(workdir: Path, name: str, version: str, answer: str) -> Path:
    """A real wheel of package `name` whose task `answer(x)` returns `answer` and `x`."""
    body = (
        "def answer(x):\n"
        f"    return {{'answer': {answer!r}, 'x': x}}\n"
        "\n"
        "def wait_for(path, x):\n"
        "    import pathlib, time\n"
        "    deadline = time.monotonic() + 60\n"
        "    while not pathlib.Path(path).exists() and time.monotonic() < deadline:\n"
        "        time.sleep(0.02)\n"
        f"    return {{'answer': {answer!r}, 'x': x}}\n"
    )
    return build_wheel(workdir, name, version, body)
