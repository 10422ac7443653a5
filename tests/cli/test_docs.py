"""The commands and examples of the documentation run as written, against `pyoco-server up`.

Covered: the README's "Five minutes with the CLI" (up to "Workers elsewhere"), its wheel
workflow and its "API keys" section, docs/library_api.md and cli/README.md, each run by
`tests.support.docs.Session` (which says how commands are run and ids substituted).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.docs import UP, Session, blocks, shell_commands, starts_up
from tests.support.processes import ROOT
from tests.support.waiting import wait_until


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    docs = Session(tmp_path)
    yield docs
    docs.stop()


def test_the_readme_walkthrough(session: Session) -> None:
    readme = blocks(ROOT / "README.md", "## Five minutes with the CLI", "### Workers elsewhere")
    assert any(block.text.startswith(UP) for block in readme)
    session.play(readme, "readme")
    assert (session.directory / "flows.py").exists()


def test_the_readme_api_key_section(session: Session) -> None:
    """In the order written: `up` with keys required, then a key made, used and revoked."""
    section = blocks(ROOT / "README.md", "## API keys", "## Operations")
    commands = [command for block in section for command in shell_commands(block.text)]
    assert starts_up(commands[0]), commands
    session.play(section, "keys")
    key = session.printed["api_key"]
    assert key.split(".")[1] not in session.run("uv run pyoco-server-admin api-key list").stdout

    def refused() -> bool:  # a gateway refuses a revoked key within a second
        done = session.shell(f"uv run pyoco-client list --api-key {key}")
        return done.returncode == 1 and "HTTP 403" in done.stderr

    wait_until(refused, timeout=5, what="the revoked key to be refused")


def test_the_readme_wheel_workflow(session: Session) -> None:
    """From `uv build` to runs of two versions, against `up` (the worker command is skipped:
    `up` runs the worker)."""
    section = blocks(ROOT / "README.md", "## Task code: the wheel registry", "## What may run")
    session.start(UP)
    outputs = []
    for block in section:
        for command in shell_commands(block.text):
            if not command.startswith("uv run pyoco-worker"):
                outputs.append(session.run(command).stdout)
    results = [json.loads(out) for out in outputs if out.startswith('{"run_id"')]
    assert [result["outputs"]["shout"] for result in results] == ["hello!", "HELLO!"]


def test_the_library_api_examples_and_the_cli_readme(session: Session) -> None:
    library = blocks(ROOT / "docs" / "library_api.md")
    assert sum(block.language == "python" for block in library) >= 7
    session.play(library, "library")
    session.play(blocks(ROOT / "cli" / "README.md"), "cli_readme")
