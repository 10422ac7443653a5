"""Running a document's commands as written: the helpers of the tests under tests/docs and
tests/cli/test_docs.py.

A document's `uv run pyoco-server up` line (environment variables before it included) is started
as written, plus free ports, in a scratch directory where its other commands then run in order:
shell commands (with the project's scripts first on PATH in place of `uv run`), `console`
transcripts (the output must match), and Python examples (each a whole script, which must exit
0). A `uv run pyoco-worker ...` line starts a worker in the background (the document says "in
another terminal"), ready once it serves its tags. `http://127.0.0.1:8000` becomes the test
server's URL, `nats://127.0.0.1:4222` its NATS's, and `<run_id>`, `<dead_letter_id>`,
`<api_key>` and `<key_id>` what the last command printing one printed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import BIN, Process, free_port
from tests.support.waiting import wait_until

DOC_URL = "http://127.0.0.1:8000"
DOC_NATS_URL = "nats://127.0.0.1:4222"
UP = "uv run pyoco-server up"
WORKER = "uv run pyoco-worker"
ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=\S*$")
ASSIGNMENTS = re.compile(r"^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
HEREDOC = re.compile(r"<<'(\w+)'")
PLACEHOLDERS = ("run_id", "dead_letter_id", "api_key", "key_id")


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
    """A scratch directory, a `pyoco-server up` in it, its workers, what commands printed."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.up: Process | None = None
        self.workers: list[Process] = []
        self.url = ""
        self.nats_url = ""
        self.printed: dict[str, str] = {}
        self.outputs: list[str] = []

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
        self.up = up = self._spawn("up", args, assigned)  # before PYOCO_NATS_URL is set
        self.url = f"http://127.0.0.1:{port}"
        self.nats_url = f"nats://127.0.0.1:{nats_port}"
        # `up` says it is up once its gateway answers; its worker may be ready before or after.
        ready = ["pyoco-server is up", *([] if "--no-worker" in args else ["serving tags"])]
        wait_until(
            lambda: (
                all(line in up.log() for line in ready)
                or (not up.alive() and pytest.fail(up.log()))
            ),
            timeout=60,
            what="pyoco-server up (and its worker)",
        )

    def background(self, command: str) -> None:
        """Start `uv run pyoco-worker ...` as written; return once it serves its tags."""
        words = shlex.split(command.replace(DOC_NATS_URL, self.nats_url))
        worker = self._spawn(f"worker-{len(self.workers)}", words[2:], {})
        self.workers.append(worker)
        wait_until(
            lambda: (
                "serving tags" in worker.log() or (not worker.alive() and pytest.fail(worker.log()))
            ),
            timeout=60,
            what=f"the worker of {command!r}",
        )

    def _spawn(self, name: str, args: list[str], assigned: dict[str, str]) -> Process:
        log_path = self.directory / f"{name}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                [str(BIN / args[0]), *args[1:]],
                cwd=self.directory,  # where the document's files are, and NATS's store
                env={**self.env(), **assigned},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return Process(name, popen, log_path)

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        """Run a shell command of the document; fail the test unless it exits 0."""
        result = self.shell(command)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        self.outputs.append(result.stdout)
        self._remember(result.stdout)
        return result

    def shell(self, command: str) -> subprocess.CompletedProcess[str]:
        command = command.replace(DOC_URL, self.url).replace("uv run ", "")
        command = command.replace(DOC_NATS_URL, self.nats_url)
        for name in PLACEHOLDERS:
            if f"<{name}>" in command:
                assert name in self.printed, f"no {name} printed before {command!r}"
                command = command.replace(f"<{name}>", self.printed[name])
        return self._run(["bash", "-c", command])

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        """`args` run to the end in the scratch directory, with the session's environment."""
        return subprocess.run(
            args,
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
        result = self._run([sys.executable, str(path)])
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
                    self.command(command)

    def command(self, command: str) -> None:
        if starts_up(command):
            self.start(command)
        elif command.startswith(WORKER):
            self.background(command)
        else:
            self.run(command)

    def _remember(self, stdout: str) -> None:
        """Keep the ids a command printed: one JSON document, or one on its first line."""
        first = stdout.splitlines()[0] if stdout.strip() else ""
        for text in (stdout, first):
            try:
                document = json.loads(text)
            except ValueError:
                continue
            if isinstance(document, dict):
                self._remember_document(document)
            return

    def _remember_document(self, document: dict[str, object]) -> None:
        items = document.get("items")
        if isinstance(items, list) and items and "redrivable" in items[0]:
            self.printed["dead_letter_id"] = items[0]["id"]
        names = ("api_key", "key_id") if "api_key" in document else ("run_id",)
        self.printed |= {name: str(document[name]) for name in names if name in document}

    def stop(self) -> None:
        """Stop the workers, then `up` (each must exit 0)."""
        for worker in self.workers:
            assert worker.stop() == 0, worker.log()
        if self.up is not None:
            assert self.up.stop() == 0, self.up.log()
