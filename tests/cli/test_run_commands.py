"""list (and list-vnext) and cancel against the real gateway, NATS and workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import document, error_lines, invoke, ok
from tests.support.flows import flow_yaml
from tests.support.processes import Gateway, WorkerFactory
from tests.support.waiting import wait_until


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "PYOCO_CANCEL_GRACE_PERIOD_SEC": "1"}


@pytest.fixture
def five_runs(gateway: Gateway) -> list[str]:
    """Five PENDING runs on tag `idle` (no worker), newest first, once the gateway lists them."""
    run_ids = [
        document(
            ok("--server", gateway.url, "submit", "--tag", "idle", "--param", f"i={i}").stdout
        )["run_id"]
        for i in range(5)
    ]

    def listed() -> bool:
        page = document(ok("--server", gateway.url, "list", "--limit", "10").stdout)
        return len(page["items"]) == 5

    wait_until(listed, what="the runs to be listed")
    return list(reversed(run_ids))


@pytest.mark.parametrize("command", ["list", "list-vnext"])
def test_list_pages_with_cursor(gateway: Gateway, five_runs: list[str], command: str) -> None:
    seen: list[str] = []
    cursor: list[str] = []
    for _ in range(5):
        page = document(ok("--server", gateway.url, command, "--limit", "2", *cursor).stdout)
        seen += [item["run_id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = ["--cursor", page["next_cursor"]]
    assert seen == five_runs


def test_list_all_full_and_filters(gateway: Gateway, five_runs: list[str]) -> None:
    everything = document(ok("--server", gateway.url, "list", "--all", "--limit", "2").stdout)
    assert [item["run_id"] for item in everything["items"]] == five_runs
    assert everything["next_cursor"] is None

    full = document(ok("--server", gateway.url, "list", "--limit", "1", "--full").stdout)
    assert full["items"][0]["params"] == {"i": 4}
    assert full["items"][0]["task_records"] == {}

    ok("--server", gateway.url, "cancel", "--run-id", five_runs[2])
    wait_until(
        lambda: document(ok("--server", gateway.url, "list", "--status", "CANCELLED").stdout)[
            "items"
        ],
        what="the cancelled run to be listed",
    )
    cancelled = document(ok("--server", gateway.url, "list", "--status", "CANCELLED").stdout)
    assert [item["run_id"] for item in cancelled["items"]] == [five_runs[2]]
    for flag, value in (("--tag", "elsewhere"), ("--flow", "other"), ("--updated-after", "4e9")):
        page = document(ok("--server", gateway.url, "list", flag, value).stdout)
        assert page == {"items": [], "next_cursor": None}

    clash = invoke("--server", gateway.url, "list", "--all", "--cursor", "abc")
    assert clash.exit_code == 1
    assert error_lines(clash.stderr)[0] == (
        "pyoco-client: error: --all and --cursor do not go together"
    )


def test_list_table_fits_80_columns(gateway: Gateway, five_runs: list[str]) -> None:
    result = ok(
        "--server", gateway.url, "list", "--limit", "3", "--output", "table",
        env={"COLUMNS": "80"},
    )  # fmt: skip
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["run_id", "status", "flow", "tag", "updated", "error"]
    rows = [line.split() for line in lines[1:-1] if line[:1].strip()]  # a row's first line
    assert [row[0] for row in rows] == five_runs[:3]
    assert all(row[1:4] == ["PENDING", "main", "idle"] and row[5] == "-" for row in rows)
    assert lines[-1].startswith("next_cursor: ")
    assert max(len(line) for line in lines[:-1]) <= 80

    coloured = ok(
        "--server", gateway.url, "list", "--limit", "1", "--output", "table",
        env={"FORCE_COLOR": "1", "COLUMNS": "80"},
    )  # fmt: skip
    assert "\x1b[34mPENDING\x1b[0m" in coloured.stdout
    assert "\x1b[" not in result.stdout  # no colour when stdout is not a terminal

    empty = ok("--server", gateway.url, "list", "--tag", "nothing", "--output", "table")
    assert empty.stdout == "(no items)\n"


def submit_sleeping_run(gateway: Gateway, tmp_path: Path) -> str:
    """Submit a run whose task sleeps for an hour; return its id once the task is running."""
    flow_file = tmp_path / "sleep.yaml"
    flow_file.write_bytes(flow_yaml("sleep_for"))
    pid_file = tmp_path / "task.pid"
    params = f'{{"seconds": 3600, "pid_file": "{pid_file}"}}'
    run_id = document(
        ok(
            "--server", gateway.url, "submit-yaml", "--workflow-file", str(flow_file),
            "--flow-name", "main", "--params", params,
        ).stdout
    )["run_id"]  # fmt: skip
    wait_until(pid_file.exists, timeout=30, what="the task to start")
    return str(run_id)


def test_cancel_wait_stops_a_sleeping_run(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker()
    run_id = submit_sleeping_run(gateway, tmp_path)
    result = ok(
        "--server", gateway.url, "cancel", "--run-id", run_id, "--reason", "too slow", "--wait"
    )
    run = document(result.stdout)
    assert run["status"] == "CANCELLED"
    assert run["cancel_reason"] == "too slow"
    assert run["tasks"] == {"sleep_for": "CANCELLED"}

    again = document(ok("--server", gateway.url, "cancel", "--run-id", run_id).stdout)
    assert again["status"] == "CANCELLED"  # idempotent


def test_cancel_wait_timeout(gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path) -> None:
    start_worker(
        env={"PYOCO_CANCEL_GRACE_PERIOD_SEC": "30", "PYOCO_WORKER_SHUTDOWN_GRACE_SEC": "1"}
    )
    run_id = submit_sleeping_run(gateway, tmp_path)
    result = invoke(
        "--server", gateway.url, "cancel", "--run-id", run_id, "--wait", "--timeout-sec", "0.5"
    )
    assert result.exit_code == 1
    error, hint = error_lines(result.stderr)
    assert error == f"pyoco-client: error: run {run_id!r} did not end within 0.5s"
    assert f"pyoco-client watch {run_id}" in hint
