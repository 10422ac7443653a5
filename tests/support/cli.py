"""Ways to run pyoco-client in tests: as a real child process, or in-process with CliRunner."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from pyoco_client.cli import cli
from pyoco_server.domain.settings import Settings
from tests.support.processes import BIN, process_env


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m pyoco_client.cli ARGS` as a child process, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "pyoco_client.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """pyoco-client ARGS in this process (fast; the same click command as the console script)."""
    return CliRunner().invoke(cli, list(args), prog_name="pyoco-client", env=env)


def ok(*args: str, env: dict[str, str] | None = None) -> Result:
    """`invoke`, checking that the command succeeded."""
    result = invoke(*args, env=env)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


Admin = Callable[..., subprocess.CompletedProcess[str]]
"""The `admin` fixture: `admin(*args, **env)` runs pyoco-server-admin against the test's NATS."""


def run_admin(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`pyoco-server-admin ARGS` as a child process, with the deployment's settings."""
    return subprocess.run(
        [str(BIN / "pyoco-server-admin"), *args],
        env=process_env(settings, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def create_key(settings: Settings, tenant: str = "t", role: str = "admin", *options: str) -> str:
    """A new API key, made by `pyoco-server-admin api-key create` as an operator would."""
    admin = [str(BIN / "pyoco-server-admin"), "--nats-url", settings.nats_url]
    done = subprocess.run(
        [*admin, "api-key", "create", "--tenant", tenant, "--role", role, *options],
        env=process_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    key: str = json.loads(done.stdout)["api_key"]
    return key


def document(stdout: str) -> dict[str, Any]:
    """The one JSON document a command printed on its one line of stdout."""
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout
    value: dict[str, Any] = json.loads(lines[0])
    return value


def error_lines(stderr: str) -> tuple[str, str]:
    """The error line and the hint line of a failed command."""
    lines = stderr.splitlines()
    assert len(lines) == 2, stderr
    assert lines[0].startswith("pyoco-client: error: "), stderr
    assert lines[1].startswith("  hint: "), stderr
    return lines[0], lines[1]
