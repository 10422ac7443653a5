"""Shell completion: click's own, through the real `pyoco-client` console script."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.support.processes import BIN

CLIENT = str(BIN / "pyoco-client")


def complete(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLIENT],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash_source", "complete -o nosort -F _pyoco_client_completion pyoco-client"),
        ("zsh_source", "compdef _pyoco_client_completion pyoco-client"),
        ("fish_source", "complete --no-files --command pyoco-client"),
    ],
)
def test_completion_script_generation_exits_0(shell: str, marker: str) -> None:
    result = complete({"_PYOCO_CLIENT_COMPLETE": shell})
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("pyoco-client su", ["submit", "submit-yaml"]),
        ("pyoco-client dlq r", ["redrive"]),
        ("pyoco-client list --status CANCEL", ["CANCELLED", "CANCELLING"]),
        ("pyoco-client watch RUN --output s", ["status"]),
    ],
)
def test_completion_of_commands_and_choices(words: str, expected: list[str]) -> None:
    result = complete(
        {
            "_PYOCO_CLIENT_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
        }
    )
    assert result.returncode == 0, result.stderr
    assert [line.split(",", 1)[1] for line in result.stdout.splitlines()] == expected


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_documented_bash_line_installs_the_completion() -> None:
    line = 'eval "$(_PYOCO_CLIENT_COMPLETE=bash_source pyoco-client)" && complete -p pyoco-client'
    result = subprocess.run(
        ["bash", "-c", line],
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "_pyoco_client_completion" in result.stdout
