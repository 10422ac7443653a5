"""Ways to run pyoco-client in tests: as a real child process, or in-process with CliRunner.

Both run against the real gateway, NATS and workers of `tests/conftest.py`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pyoco_client.cli import cli
from tests.conftest import FLOW_YAML


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


@pytest.fixture
def flow_file(tmp_path: Path) -> Path:
    """The seed README's flow.yaml, written to a temporary directory."""
    path = tmp_path / "flow.yaml"
    path.write_bytes(FLOW_YAML)
    return path
