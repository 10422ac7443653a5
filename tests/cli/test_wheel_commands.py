"""wheels, wheel-upload (with its preflight), wheel-history and wheel-delete against a real
gateway; and the original 0.5.1 pyoco-client's wheel commands against the same gateway."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import document, error_lines, invoke, ok
from tests.support.processes import Gateway
from tests.support.wheels import wheel_bytes

NAME = "my_ext-0.1.0-py3-none-any.whl"


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_upload_list_history_and_delete(gateway: Gateway, tmp_path: Path) -> None:
    wheel = write(tmp_path / NAME, wheel_bytes("my_ext", "0.1.0"))
    server = ("--server", gateway.url)
    uploaded = document(
        ok(*server, "wheel-upload", "--wheel-file", str(wheel), "--tags", "cpu,linux").stdout
    )
    assert (uploaded["name"], uploaded["tags"]) == (NAME, ["cpu", "linux"])

    (listed,) = json.loads(ok(*server, "wheels").stdout)
    assert listed["sha256_hex"] == uploaded["sha256_hex"]
    table = ok(*server, "wheels", "--output", "table").stdout.splitlines()
    assert table[0].split()[:3] == ["name", "version", "tags"]
    assert table[1].split()[:3] == [NAME, "0.1.0", "cpu,linux"]

    again = invoke(*server, "wheel-upload", "--wheel-file", str(wheel), "--preflight", "off")
    assert again.exit_code == 1
    error, hint = error_lines(again.stderr)
    assert error.startswith("pyoco-client: error: HTTP 409 Conflict: ")
    assert "version" in hint

    deleted = document(ok(*server, "wheel-delete", "--name", NAME).stdout)
    assert (deleted["name"], deleted["deleted"], deleted["current_version"]) == (NAME, True, None)
    assert json.loads(ok(*server, "wheels").stdout) == []
    history = json.loads(ok(*server, "wheel-history", "--limit", "20").stdout)
    assert [event["action"] for event in history] == ["delete", "upload"]
    only = json.loads(ok(*server, "wheel-history", "--action", "upload").stdout)
    assert [event["wheel_name"] for event in only] == [NAME]

    missing = invoke(*server, "wheel-delete", "--name", NAME)
    assert missing.exit_code == 1
    assert error_lines(missing.stderr)[0].startswith("pyoco-client: error: HTTP 404 Not Found: ")


def test_strict_preflight_stops_a_bad_wheel_before_any_request(
    gateway: Gateway, tmp_path: Path
) -> None:
    mismatch = write(tmp_path / NAME, wheel_bytes("my_ext", "0.1.0", metadata_version="0.2.0"))
    result = invoke("--server", gateway.url, "wheel-upload", "--wheel-file", str(mismatch))
    assert result.exit_code == 1
    *warnings, error, hint = result.stderr.splitlines()
    assert all(line.startswith("pyoco-client: preflight: warning: ") for line in warnings)
    error, hint = error_lines(f"{error}\n{hint}")
    assert "failed the preflight" in error
    assert "0.2.0" in error
    assert "--preflight warn" in hint
    assert json.loads(ok("--server", gateway.url, "wheels").stdout) == []

    # With the preflight off, the gateway's own check refuses it just the same.
    off = invoke(
        "--server", gateway.url, "wheel-upload", "--wheel-file", str(mismatch), "--preflight", "off"
    )
    assert off.exit_code == 1
    assert "HTTP 422" in error_lines(off.stderr)[0]


def test_the_original_preflight_findings_are_warnings_unless_asked_for(
    gateway: Gateway, tmp_path: Path
) -> None:
    wheel = write(tmp_path / NAME, wheel_bytes("my_ext", "0.1.0"))  # no entry points, no docs
    strict = invoke(
        "--server", gateway.url, "wheel-upload", "--wheel-file", str(wheel),
        "--require-entry-points",
    )  # fmt: skip
    assert strict.exit_code == 1
    assert "entry points" in strict.stderr

    warned = ok("--server", gateway.url, "wheel-upload", "--wheel-file", str(wheel))
    assert "pyoco-client: preflight: warning: the wheel declares no entry points" in warned.stderr
    assert "usage documentation" in warned.stderr
    assert document(warned.stdout)["name"] == NAME


@pytest.fixture(scope="session")
def original_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The original project's 0.5.1 `pyoco-client`, installed from PyPI into its own venv."""
    venv = tmp_path_factory.mktemp("pyoco-server-0.5.1") / "venv"
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    for command in (
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
         "pyoco-server==0.5.1"],
    ):  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
    return venv / "bin" / "pyoco-client"


def test_the_original_clients_wheel_commands_work(
    gateway: Gateway, tmp_path: Path, original_client: Path
) -> None:
    def run(*args: str) -> object:
        done = subprocess.run(
            [str(original_client), "--server", gateway.url, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return json.loads(done.stdout)

    wheel = write(tmp_path / NAME, wheel_bytes("my_ext", "0.1.0"))
    uploaded = run(
        "wheel-upload", "--wheel-file", str(wheel), "--tags", "cpu,linux",
        "--allow-no-entry-points", "--allow-missing-usage-doc",
    )  # fmt: skip
    assert isinstance(uploaded, dict)
    assert (uploaded["name"], uploaded["tags"]) == (NAME, ["cpu", "linux"])
    listed = run("wheels")
    assert [item["name"] for item in listed] == [NAME]  # type: ignore[attr-defined]
    history = run("wheel-history", "--limit", "20", "--wheel-name", NAME)
    assert [event["action"] for event in history] == ["upload"]  # type: ignore[attr-defined]
    deleted = run("wheel-delete", "--name", NAME)
    assert deleted["deleted"] is True  # type: ignore[index]
    assert run("wheels") == []
