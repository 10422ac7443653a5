"""One way to name a run and to pass the connection options, for every command (real gateway).

The run id is each command's argument (`--run-id` still works, hidden); a unique start of it is
as good as the id; `--server` and the other connection options go before or after the command.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyoco_client import Client, RunIdPrefixError
from tests.support.cli import document, error_lines, invoke, ok
from tests.support.processes import Gateway


@pytest.fixture
def run_ids(gateway: Gateway) -> list[str]:
    """Runs submitted until two of them share their first character, all PENDING (no worker)."""
    submitted: list[str] = []
    while len({run_id[0] for run_id in submitted}) == len(submitted):
        accepted = document(ok("--server", gateway.url, "submit", "--tag", "idle").stdout)
        submitted.append(accepted["run_id"])
    return submitted


def shared_start(run_ids: list[str]) -> tuple[str, list[str]]:
    """A first character two runs share, and the runs whose id starts with it."""
    first = next(run_id[0] for run_id in run_ids if [r[0] for r in run_ids].count(run_id[0]) > 1)
    return first, [run_id for run_id in run_ids if run_id.startswith(first)]


def unique_start(run_id: str, run_ids: list[str]) -> str:
    """The shortest start of `run_id` no other run shares."""
    others = [other for other in run_ids if other != run_id]
    return next(
        run_id[:n] for n in range(1, 37) if not any(o.startswith(run_id[:n]) for o in others)
    )


@pytest.mark.parametrize(
    "command",
    [["get"], ["tasks"], ["watch", "--max-events", "1"], ["cancel"], ["rerun"]],
    ids=lambda command: command[0],
)
def test_every_run_command_takes_the_id_as_argument_and_as_hidden_flag(
    gateway: Gateway, run_ids: list[str], command: list[str]
) -> None:
    run_id = run_ids[-1]
    positional = document(ok("--server", gateway.url, *command, run_id).stdout)
    flagged = document(ok("--server", gateway.url, *command, "--run-id", run_id).stdout)
    for shown in (positional, flagged):
        named = shown.get("rerun_of") or shown["run_id"]
        assert named == run_id
    assert "--run-id" not in ok(*command[:1], "--help").stdout

    missing = invoke("--server", gateway.url, *command)
    assert missing.exit_code == 1
    error, hint = error_lines(missing.stderr)
    assert error == "pyoco-client: error: missing RUN_ID, the run's id (or its first characters)"
    assert hint == f"  hint: see 'pyoco-client {command[0]} --help'"

    clash = invoke("--server", gateway.url, *command, run_id, "--run-id", run_ids[0])
    assert clash.exit_code == 1
    assert "differ; give one" in error_lines(clash.stderr)[0]


def test_a_unique_start_of_an_id_names_the_run(gateway: Gateway, run_ids: list[str]) -> None:
    run_id = run_ids[0]
    short = unique_start(run_id, run_ids)
    assert document(ok("--server", gateway.url, "get", short).stdout)["run_id"] == run_id
    assert document(ok("--server", gateway.url, "tasks", short).stdout)["run_id"] == run_id
    cancelled = document(ok("--server", gateway.url, "cancel", "--run-id", short).stdout)
    assert (cancelled["run_id"], cancelled["status"]) == (run_id, "CANCELLED")
    with Client(gateway.url) as client:
        assert client.resolve_run_id(short) == run_id
        assert client.resolve_run_id(run_id) == run_id


def test_a_start_no_id_has_is_an_error(gateway: Gateway, run_ids: list[str]) -> None:
    result = invoke("--server", gateway.url, "get", "zz")  # ids are hexadecimal
    assert result.exit_code == 1
    error, hint = error_lines(result.stderr)
    assert error == "pyoco-client: error: no run id starts with 'zz'"
    assert "pyoco-client list" in hint
    with Client(gateway.url) as client, pytest.raises(RunIdPrefixError) as caught:
        client.resolve_run_id("zz")
    assert (caught.value.prefix, caught.value.matches) == ("zz", ())


def test_a_start_several_ids_share_is_an_error_naming_them(
    gateway: Gateway, run_ids: list[str]
) -> None:
    first, matching = shared_start(run_ids)
    result = invoke("--server", gateway.url, "get", first)
    assert result.exit_code == 1
    error, hint = error_lines(result.stderr)
    assert error.startswith(f"pyoco-client: error: {first!r} is ambiguous: it matches ")
    assert sum(run_id in error for run_id in matching) >= 2
    assert hint == "  hint: give more characters of the run id, or all of it"
    with Client(gateway.url) as client, pytest.raises(RunIdPrefixError) as caught:
        client.resolve_run_id(first)
    assert set(caught.value.matches) <= set(matching)
    assert len(caught.value.matches) >= 2


def test_a_whole_id_is_not_looked_up(gateway: Gateway) -> None:
    unknown = "0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70"
    result = invoke("--server", gateway.url, "get", unknown)
    assert result.exit_code == 1
    assert error_lines(result.stderr)[0].startswith("pyoco-client: error: HTTP 404 Not Found")


def test_connection_options_may_follow_the_command(
    gateway: Gateway, run_ids: list[str], tmp_path: Path
) -> None:
    run_id = run_ids[0]
    after = ok("get", run_id, "--server", gateway.url, "--timeout", "5", "--api-key-header", "X")
    assert document(after.stdout)["run_id"] == run_id
    # After the command, the option wins over the group's (and over PYOCO_SERVER_URL).
    dead = "http://127.0.0.1:9"
    shown = ok("--server", dead, "get", run_id, "--server", gateway.url)
    assert document(shown.stdout)["run_id"] == run_id
    env = ok("get", run_id, "--server", gateway.url, env={"PYOCO_SERVER_URL": dead})
    assert document(env.stdout)["run_id"] == run_id
    nested = ok("dlq", "list", "--server", gateway.url, "--limit", "1")
    assert json.loads(nested.stdout) == {"items": [], "next_cursor": None}

    failing = invoke("get", run_id, "--server", dead, "--debug")
    assert failing.exit_code == 1
    assert "Traceback" in failing.stderr  # --debug after the command counts too
    bad_url = invoke("list", "--server", "ftp://x")
    assert bad_url.exit_code == 1
    assert error_lines(bad_url.stderr)[0].startswith("pyoco-client: error: --server 'ftp://x'")


def test_list_vnext_is_a_hidden_alias_of_list(gateway: Gateway, run_ids: list[str]) -> None:
    listed = document(ok("list-vnext", "--server", gateway.url, "--limit", "1").stdout)
    assert listed["items"][0]["run_id"] == run_ids[-1]
    assert "list-vnext" not in ok("--help").stdout
