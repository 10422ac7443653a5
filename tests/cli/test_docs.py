"""The commands and examples of the documentation run as written, against `pyoco-server up`.

Covered: the README's "Five minutes with the CLI" (up to "Workers elsewhere"), its wheel
workflow and its "API keys" section, docs/library_api.md and cli/README.md. Each document's
`uv run pyoco-server up` line (environment variables before it included) is started as written,
plus free ports, in a scratch directory where its other commands then run in order:
shell commands (with the project's scripts first on PATH in place of `uv run`), `console`
transcripts (the output must match), and Python examples (each a whole script, which must exit
0). `http://127.0.0.1:8000` becomes the test server's URL, `nats://127.0.0.1:4222` its NATS's,
`<run_id>` the `run_id` the previous command printed, and `<api_key>` and `<key_id>` those of the
last key created.
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
DOC_NATS_URL = "nats://127.0.0.1:4222"
UP = "uv run pyoco-server up"
ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=\S*$")
ASSIGNMENTS = re.compile(r"^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+")
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


def starts_up(command: str) -> bool:
    """True for `uv run pyoco-server up ...`, with environment variables set before it or not."""
    return ASSIGNMENTS.sub("", command).startswith(UP)


class Session:
    """A scratch directory, a `pyoco-server up` in it, and what the last command printed."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.up: Process | None = None
        self.url = ""
        self.nats_url = ""
        self.printed: dict[str, str] = {}

    def env(self) -> dict[str, str]:
        nats = {"PYOCO_NATS_URL": self.nats_url} if self.nats_url else {}
        return {
            **os.environ,
            **nats,
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "PYOCO_SERVER_URL": self.url,
            # `uv build` uses the project's hatchling (no download) and keeps to its Python.
            "UV_NO_BUILD_ISOLATION": "1",
            "UV_PYTHON": sys.executable,
            "UV_PYTHON_DOWNLOADS": "never",
        }

    def start(self, command: str) -> None:
        """Start `[VAR=value ...] uv run pyoco-server up ...` as written, on free ports."""
        assert self.up is None, "one server per document"
        port, nats_port = free_port(), free_port()
        words = shlex.split(command)
        assigned = {}
        while ASSIGNMENT.match(words[0]):
            name, _, value = words.pop(0).partition("=")
            assigned[name] = value
        args = [*words[2:], "--port", str(port), "--nats-client-port", str(nats_port)]
        log_path = self.directory / "up.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                [str(BIN / args[0]), *args[1:]],
                cwd=self.directory,  # where the document's files are, and NATS's store
                env={**self.env(), **assigned},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.up = up = Process("up", popen, log_path)
        self.url = f"http://127.0.0.1:{port}"
        self.nats_url = f"nats://127.0.0.1:{nats_port}"
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
        command = command.replace(DOC_NATS_URL, self.nats_url)
        for name in ("run_id", "api_key", "key_id"):
            if f"<{name}>" in command:
                assert name in self.printed, f"no {name} printed before {command!r}"
                command = command.replace(f"<{name}>", self.printed[name])
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
                    self.start(command) if starts_up(command) else self.run(command)

    def _remember(self, stdout: str) -> None:
        """Keep the ids a command printed: one JSON document, or one on its first line."""
        first = stdout.splitlines()[0] if stdout.strip() else ""
        for text in (stdout, first):
            try:
                document = json.loads(text)
            except ValueError:
                continue
            if isinstance(document, dict):
                names = ("api_key", "key_id") if "api_key" in document else ("run_id",)
                self.printed |= {name: document[name] for name in names if name in document}
            return

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
