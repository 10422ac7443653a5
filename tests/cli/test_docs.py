"""The commands and examples of the documentation run as written, against `pyoco-server up`.

Covered: the README's "Five minutes with the CLI" (up to "Workers elsewhere"),
docs/library_api.md and cli/README.md. Each document's `uv run pyoco-server up` line is started
as written, plus free ports, in a scratch directory where its other commands then run in order:
shell commands (with the project's scripts first on PATH in place of `uv run`), `console`
transcripts (the output must match), and Python examples (each a whole script, which must exit
0). `http://127.0.0.1:8000` becomes the test server's URL, and `<run_id>` the `run_id` the
previous command printed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import BIN, ROOT, Process, free_port
from tests.support.waiting import wait_until

DOC_URL = "http://127.0.0.1:8000"
UP = "uv run pyoco-server up"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
HEREDOC = re.compile(r"<<'(\w+)'")


@dataclass
class Block:
    language: str
    text: str


def blocks(path: Path, start: str | None = None, end: str | None = None) -> list[Block]:
    """The fenced blocks of `path`, between the headings `start` and `end` when given."""
    text = path.read_text()
    if start is not None:
        text = text[text.index(start) :]
    if end is not None:
        text = text[: text.index(end)]
    return [Block(match[1], match[2]) for match in FENCE.finditer(text)]


def shell_commands(script: str) -> list[str]:
    """The commands of a shell block: one per line, with here-documents kept whole."""
    lines = script.splitlines()
    commands = []
    while lines:
        command = [lines.pop(0)]
        if not command[0].strip() or command[0].lstrip().startswith("#"):
            continue
        if marker := HEREDOC.search(command[0]):
            while command[-1] != marker[1]:
                command.append(lines.pop(0))
        commands.append("\n".join(command))
    return commands


class Session:
    """A scratch directory, a `pyoco-server up` in it, and what the last command printed."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.up: Process | None = None
        self.url = ""
        self.run_id: str | None = None

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "PYOCO_SERVER_URL": self.url,
            # `uv build` uses the project's hatchling (no download) and keeps to its Python.
            "UV_NO_BUILD_ISOLATION": "1",
            "UV_PYTHON": sys.executable,
            "UV_PYTHON_DOWNLOADS": "never",
        }

    def start(self, command: str) -> None:
        """Start `uv run pyoco-server up ...` as written, on free ports."""
        assert self.up is None, "one server per document"
        port, nats_port = free_port(), free_port()
        args = shlex.split(command.removeprefix("uv run "))
        args += ["--port", str(port), "--nats-client-port", str(nats_port)]
        log_path = self.directory / "up.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                [str(BIN / args[0]), *args[1:]],
                cwd=self.directory,  # where the document's files are, and NATS's store
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.up = up = Process("up", popen, log_path)
        self.url = f"http://127.0.0.1:{port}"
        wait_until(
            lambda: "serving tags" in up.log() or (not up.alive() and pytest.fail(up.log())),
            timeout=60,
            what="pyoco-server up and its worker",
        )

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        """Run a shell command of the document; fail the test unless it exits 0."""
        result = self.shell(command)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        self._remember(result.stdout)
        return result

    def shell(self, command: str) -> subprocess.CompletedProcess[str]:
        command = command.replace(DOC_URL, self.url).replace("uv run ", "")
        if "<run_id>" in command:
            assert self.run_id is not None, f"no run_id printed before {command!r}"
            command = command.replace("<run_id>", self.run_id)
        return subprocess.run(
            ["bash", "-c", command],
            cwd=self.directory,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def python(self, source: str, name: str) -> None:
        path = self.directory / f"{name}.py"
        path.write_text(source.replace(DOC_URL, self.url))
        result = subprocess.run(
            [sys.executable, str(path)],
            cwd=self.directory,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, (source, result.stdout, result.stderr)

    def transcript(self, text: str) -> None:
        """Run each `$ command` of a console block; its output must be the lines after it."""
        for chunk in text.split("$ ")[1:]:
            command, _, expected = chunk.partition("\n")
            result = self.shell(f"{command} 2>&1")
            assert result.stdout == expected, (command, result.stdout)

    def play(self, document: list[Block], name: str) -> None:
        for number, block in enumerate(document):
            if block.language == "python":
                self.python(block.text, f"{name}_{number}")
            elif block.language == "console":
                self.transcript(block.text)
            elif block.language == "bash":
                for command in shell_commands(block.text):
                    self.start(command) if command.startswith(UP) else self.run(command)

    def _remember(self, stdout: str) -> None:
        first = stdout.splitlines()[0] if stdout.strip() else ""
        try:
            document = json.loads(first)
        except ValueError:
            return
        if isinstance(document, dict) and "run_id" in document:
            self.run_id = document["run_id"]

    def stop(self) -> None:
        if self.up is not None:
            assert self.up.stop() == 0, self.up.log()


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
