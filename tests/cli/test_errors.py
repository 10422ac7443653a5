"""Every user-fixable error exits 1 with two lines on stderr: the error, then a hint.

Errors in flags and files are found before any request is sent, so those tests point --server
at a closed port (a request would fail differently); HTTP problems come from the real gateway.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyoco_server.domain.settings import Settings
from tests.support.cli import error_lines, invoke, run_cli
from tests.support.processes import Gateway, free_port, start_gateway

UNKNOWN_RUN = "0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70"


@pytest.fixture
def closed_url() -> str:
    """The URL of a port nothing listens on."""
    return f"http://127.0.0.1:{free_port()}"


def failure(*args: str) -> tuple[str, str]:
    """Run pyoco-client ARGS, check that it failed as a user error; its error and hint lines."""
    result = invoke(*args)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return error_lines(result.stderr)


@pytest.mark.parametrize(
    ("args", "error", "hint"),
    [
        (
            ["submit", "--params", '{"x": 1,}'],
            "--params is not valid JSON: Expecting property name enclosed in double quotes "
            "at line 1 column 9",
            """--params '{"x": 2}'""",
        ),
        (
            ["submit", "--params", '{\n  "x": }'],
            "--params is not valid JSON: Expecting value at line 2 column 8",
            "JSON object",
        ),
        (["submit", "--params", "[1, 2]"], "--params must be an object, not a list", "object"),
        (
            ["submit-yaml", "--workflow-file", "flow.yaml", "--flow-name", "m", "--params", '"x"'],
            "--params must be an object, not a string",
            "object",
        ),
        (["submit", "--params", "NaN"], "--params holds a value JSON cannot carry", "quote"),
        (["submit", "--param", "x"], "--param 'x' is not KEY=VALUE", "--param x=2"),
        (["submit", "--param", "=1"], "--param '=1' is not KEY=VALUE", "--param x=2"),
        (
            ["submit", "--params-file", "missing.yaml"],
            "cannot read the params file 'missing.yaml': No such file or directory",
            "check the path",
        ),
        (
            ["submit-yaml", "--workflow-file", "missing.yaml", "--flow-name", "main"],
            "cannot read the workflow file 'missing.yaml': No such file or directory",
            "check the path",
        ),
        (
            ["submit-yaml", "--workflow-file", ".", "--flow-name", "main"],
            "cannot read the workflow file '.': Is a directory",
            "check the path",
        ),
        (
            ["submit-yaml", "--workflow-file", "flow.yaml"],
            "Missing option '--flow-name'",
            "see 'pyoco-client submit-yaml --help'",
        ),
        (["frobnicate"], "No such command 'frobnicate'", "see 'pyoco-client --help'"),
    ],
)
def test_bad_flags_and_files(
    closed_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    error: str,
    hint: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flow.yaml").write_text("version: 1\n")
    error_line, hint_line = failure("--server", closed_url, *args)
    assert error in error_line
    assert hint in hint_line


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("bad.yaml", "a: [1, 2\nb: 3\n", "is not valid YAML: expected ',' or ']'"),
        ("list.yaml", "- 1\n- 2\n", "must be an object, not a list"),
        ("empty.yaml", "", "must be an object, not null (empty)"),
        ("dates.yaml", "when: 2024-01-01\n", "holds a value JSON cannot carry"),
        ("bad.json", '{"a": 1\n "b": 2}', "is not valid JSON: Expecting ',' delimiter at line 2"),
    ],
)
def test_bad_params_files(
    closed_url: str, tmp_path: Path, name: str, content: str, error: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    error_line, _ = failure("--server", closed_url, "submit", "--params-file", str(path))
    assert f"--params-file {str(path)!r} {error}" in error_line


def test_yaml_errors_name_line_and_column(closed_url: str, tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("a: 1\nb: [1, 2\nc: 3\n")
    error_line, _ = failure("--server", closed_url, "submit", "--params-file", str(path))
    assert "at line 3 column 2" in error_line


def test_server_must_be_an_http_url() -> None:
    error_line, hint_line = failure("--server", "localhost:8000", "get", UNKNOWN_RUN)
    assert "--server 'localhost:8000' is not an http:// or https:// URL" in error_line
    assert "http://127.0.0.1:8000" in hint_line


def test_get_of_an_unknown_run(gateway: Gateway) -> None:
    error_line, hint_line = failure("--server", gateway.url, "get", UNKNOWN_RUN)
    assert error_line == (
        f"pyoco-client: error: HTTP 404 Not Found: run {UNKNOWN_RUN!r} not found; "
        "check the id returned by the submit call"
    )
    assert f"run id {UNKNOWN_RUN!r} is unknown to this server" in hint_line


def test_tasks_of_an_unknown_run(gateway: Gateway) -> None:
    error_line, hint_line = failure("--server", gateway.url, "tasks", UNKNOWN_RUN)
    assert error_line.startswith("pyoco-client: error: HTTP 404 Not Found: ")
    assert "is unknown to this server" in hint_line


def test_invalid_workflow_is_a_422_with_the_reason(gateway: Gateway, tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text("version: 1\nflows: {}\n")
    error_line, hint_line = failure(
        "--server", gateway.url, "submit-yaml", "--workflow-file", str(path), "--flow-name", "m"
    )
    assert error_line.startswith(
        "pyoco-client: error: HTTP 422 Unprocessable Entity: invalid workflow yaml ("
    )
    assert "one flow per file" in error_line
    assert "fix the workflow file" in hint_line


def test_a_submit_over_the_rate_limit_names_the_settings(
    settings: Settings, tmp_path: Path
) -> None:
    gateway = start_gateway(
        settings, tmp_path, PYOCO_SUBMIT_RATE_PER_SEC="0.01", PYOCO_SUBMIT_BURST="1"
    )
    assert invoke("--server", gateway.url, "submit").exit_code == 0
    error_line, hint_line = failure("--server", gateway.url, "submit")
    assert error_line.startswith("pyoco-client: error: HTTP 429 Too Many Requests: ")
    assert "PYOCO_SUBMIT_RATE_PER_SEC" in hint_line


def test_invalid_tag_is_a_400(gateway: Gateway) -> None:
    error_line, _ = failure("--server", gateway.url, "submit", "--tag", "not a tag")
    assert error_line.startswith("pyoco-client: error: HTTP 400 Bad Request: ")


def test_connection_refused_names_the_url_and_how_to_start_a_server(closed_url: str) -> None:
    result = run_cli("--server", closed_url, "get", UNKNOWN_RUN)
    assert result.returncode == 1
    assert result.stdout == ""
    error_line, hint_line = error_lines(result.stderr)
    assert error_line.startswith(
        f"pyoco-client: error: cannot reach the pyoco-server at {closed_url}"
    )
    assert "Connection refused" in error_line
    assert "uv run pyoco-server up" in hint_line


def test_debug_shows_the_traceback(closed_url: str) -> None:
    result = run_cli("--debug", "--server", closed_url, "tasks", UNKNOWN_RUN)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "httpx.ConnectError" in result.stderr
    error_line, hint_line = result.stderr.splitlines()[-2:]
    assert error_line.startswith("pyoco-client: error: cannot reach the pyoco-server")
    assert "uv run pyoco-server up" in hint_line


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A port that accepts connections (in the kernel's backlog) but never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_timeout(silent_url: str) -> None:
    error_line, hint_line = failure("--server", silent_url, "--timeout", "0.2", "get", UNKNOWN_RUN)
    assert error_line == (
        f"pyoco-client: error: cannot reach the pyoco-server at {silent_url}: no answer within 0.2s"
    )
    assert "raise --timeout" in hint_line


@pytest.mark.parametrize(
    "args",
    [
        ["watch", UNKNOWN_RUN],
        ["cancel", "--run-id", UNKNOWN_RUN],
        ["cancel", "--run-id", UNKNOWN_RUN, "--wait"],
    ],
)
def test_watch_and_cancel_of_an_unknown_run(gateway: Gateway, args: list[str]) -> None:
    error_line, hint_line = failure("--server", gateway.url, *args)
    assert error_line.startswith("pyoco-client: error: HTTP 404 Not Found: ")
    assert UNKNOWN_RUN in error_line
    assert f"run id {UNKNOWN_RUN!r} is unknown to this server" in hint_line


@pytest.mark.parametrize(
    "args",
    [
        ["watch", UNKNOWN_RUN],
        ["list", "--output", "table"],
        ["submit", "--wait"],
        ["workers"],
        ["dlq", "list"],
        ["metrics"],
    ],
)
def test_every_command_names_an_unreachable_server(closed_url: str, args: list[str]) -> None:
    error_line, hint_line = failure("--server", closed_url, *args)
    assert error_line.startswith(
        f"pyoco-client: error: cannot reach the pyoco-server at {closed_url}"
    )
    assert "uv run pyoco-server up" in hint_line


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["list", "--status", "DONE"], "Invalid value for '--status'"),
        (["list", "--limit", "500"], "Invalid value for '--limit'"),
        (["watch", "r", "--output", "table"], "Invalid value for '--output'"),
        (["workers", "--scope", "some"], "Invalid value for '--scope'"),
        (["dlq", "redrive"], "Missing argument 'DEAD_LETTER_ID'"),
        (["cancel"], "missing RUN_ID, the run's id (or its first characters)"),
        (["submit", "--wait-timeout", "0"], "Invalid value for '--wait-timeout'"),
    ],
)
def test_bad_option_values_are_usage_errors(closed_url: str, args: list[str], error: str) -> None:
    error_line, hint_line = failure("--server", closed_url, *args)
    assert error in error_line
    assert "--help'" in hint_line


def test_a_bad_cursor_is_a_400_with_the_detail(gateway: Gateway) -> None:
    error_line, hint_line = failure("--server", gateway.url, "list", "--cursor", "not-a-cursor")
    assert error_line.startswith("pyoco-client: error: HTTP 400 Bad Request: ")
    assert "cursor" in error_line
    assert "change it as the detail says" in hint_line


def test_ctrl_c_ends_a_watch_with_exit_130(gateway: Gateway) -> None:
    with gateway.client() as client:
        run_id = client.post("/runs", json={"flow_name": "main", "tag": "idle"}).json()["run_id"]
    watcher = subprocess.Popen(
        [sys.executable, "-m", "pyoco_client.cli", "--server", gateway.url, "watch", run_id],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert watcher.stdout is not None
    assert '"status": "PENDING"' in watcher.stdout.readline()
    watcher.send_signal(signal.SIGINT)
    _, stderr = watcher.communicate(timeout=30)
    assert watcher.returncode == 130
    assert "Traceback" not in stderr
