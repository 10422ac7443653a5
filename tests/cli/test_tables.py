"""Tables for people: whole ids at any width, local ISO 8601 times, get/tasks tables, list's error
column and filters (real gateway, NATS and worker)."""

from __future__ import annotations

import datetime
import re
import time
from pathlib import Path

import pytest

from tests.support.cli import document, error_lines, invoke, ok
from tests.support.flows import flow_yaml
from tests.support.processes import Gateway, WorkerFactory
from tests.support.waiting import wait_terminal, wait_until

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def local_iso(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(int(timestamp)).isoformat()


@pytest.fixture
def failed_run(gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path) -> dict[str, object]:
    """A run of the `fail` task, labelled `nightly`, once it has FAILED."""
    start_worker()
    path = tmp_path / "fail.yaml"
    path.write_bytes(flow_yaml("fail", defaults="{x: 1}"))
    accepted = document(
        ok(
            "--server", gateway.url, "submit-yaml", "--workflow-file", str(path),
            "--flow-name", "main", "--tags", "nightly,team-a",
        ).stdout
    )  # fmt: skip
    with gateway.client() as client:
        return wait_terminal(client, accepted["run_id"])


@pytest.fixture
def pending_run(gateway: Gateway) -> str:
    """A PENDING run on a tag no worker serves, once the gateway lists it."""
    run_id: str = document(ok("--server", gateway.url, "submit", "--tag", "idle").stdout)["run_id"]
    wait_until(
        lambda: document(ok("--server", gateway.url, "list", "--tag", "idle").stdout)["items"],
        what="the run to be listed",
    )
    return run_id


def table(gateway: Gateway, columns: int, *args: str) -> list[str]:
    result = ok("--server", gateway.url, *args, "--output", "table", env={"COLUMNS": str(columns)})
    return result.stdout.splitlines()


def test_list_table_has_the_error_reason_and_local_iso_times(
    gateway: Gateway, failed_run: dict[str, object], pending_run: str
) -> None:
    lines = table(gateway, 160, "list")
    assert lines[0].split() == ["run_id", "status", "flow", "tag", "updated", "error"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[str(failed_run["run_id"])][1:] == [
        "FAILED", "main", "default", local_iso(float(failed_run["updated_at"])), "execution_error",
    ]  # fmt: skip
    assert rows[pending_run][1:4] == ["PENDING", "main", "idle"]
    assert rows[pending_run][5] == "-"


@pytest.mark.parametrize("columns", [60, 80, 100])
def test_tables_never_cut_ids(
    gateway: Gateway, failed_run: dict[str, object], pending_run: str, columns: int
) -> None:
    lines = table(gateway, columns, "list")
    text = "\n".join(lines)
    for run_id in (failed_run["run_id"], pending_run):
        assert re.search(rf"(^|\s){run_id}(\s|$)", text, re.MULTILINE), text
    assert max(len(line.rstrip()) for line in lines) <= columns
    assert re.search(r"\d{4}-\d\d-\d\d", text)  # the time: one line (ISO 8601) or two
    assert re.search(r"\d\d:\d\d:\d\d", text)
    if columns == 60:  # too narrow for a table: one `name value` block per run
        assert [line.split()[0] for line in lines if line.startswith("run_id")] == ["run_id"] * 2


def test_list_filters_by_label_and_run_id_prefix(
    gateway: Gateway, failed_run: dict[str, object], pending_run: str
) -> None:
    labelled = document(ok("--server", gateway.url, "list", "--label", "team-a").stdout)
    assert [item["run_id"] for item in labelled["items"]] == [failed_run["run_id"]]
    none = document(ok("--server", gateway.url, "list", "--label", "nobody").stdout)
    assert none["items"] == []
    prefixed = ok("--server", gateway.url, "list", "--run-id-prefix", pending_run[:8]).stdout
    assert [item["run_id"] for item in document(prefixed)["items"]] == [pending_run]


@pytest.mark.parametrize(
    ("after", "listed"),
    [("10m", True), ("1d", True), ("30s", True), ("2h", True), ("2999-01-01", False)],
)
def test_updated_after_takes_an_age_or_iso_8601(
    gateway: Gateway, pending_run: str, after: str, listed: bool
) -> None:
    page = document(ok("--server", gateway.url, "list", "--updated-after", after).stdout)
    assert ([item["run_id"] for item in page["items"]] == [pending_run]) is listed


def test_updated_after_iso_with_and_without_zone(gateway: Gateway, pending_run: str) -> None:
    hour_ago = datetime.datetime.fromtimestamp(time.time() - 3600)
    utc_soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)
    for moment, listed in (
        (hour_ago.isoformat(timespec="minutes"), True),  # local time
        (utc_soon.strftime("%Y-%m-%dT%H:%M:%SZ"), False),
    ):
        page = document(ok("--server", gateway.url, "list", "--updated-after", moment).stdout)
        assert bool(page["items"]) is listed, moment

    wrong = invoke("--server", gateway.url, "list", "--updated-after", "yesterday")
    assert wrong.exit_code == 1
    error, hint = error_lines(wrong.stderr)
    assert "'yesterday' is not a time" in error
    assert "ISO 8601" in error
    assert hint == "  hint: see 'pyoco-client list --help'"


def test_get_table_shows_the_run_and_why_it_failed(
    gateway: Gateway, failed_run: dict[str, object]
) -> None:
    run_id = str(failed_run["run_id"])
    lines = table(gateway, 100, "get", run_id)
    fields = dict(line.split(maxsplit=1) for line in lines if line[:1].strip())
    assert fields["run_id"].strip() == run_id
    assert fields["status"].strip() == "FAILED"
    assert fields["flow"].strip() == "main"
    assert fields["labels"].strip() == "nightly,team-a"
    assert fields["error"].strip() == "execution_error"
    assert fields["updated"].strip() == local_iso(float(failed_run["updated_at"]))
    assert ["task", "fail", "FAILED"] in [line.split() for line in lines]
    assert any("boom: x was 1" in line for line in lines)


def test_tasks_table(gateway: Gateway, failed_run: dict[str, object]) -> None:
    lines = table(gateway, 160, "tasks", str(failed_run["run_id"]))
    assert lines[0].split() == ["task", "state", "started", "ended", "ms", "error"]
    row = lines[1].split()
    assert row[:2] == ["fail", "FAILED"]
    assert ISO.fullmatch(row[2])
    assert ISO.fullmatch(row[3])
    assert " ".join(row[5:]).startswith("boom: x was 1")
