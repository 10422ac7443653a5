"""`pyoco-client logs` and `Client.logs`/`follow_logs` against a real gateway and worker."""

from __future__ import annotations

import asyncio
import datetime
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from pyoco_client import AsyncClient, Client, LogEvent
from pyoco_client._commands.logs import _shown
from tests.support.cli import invoke, ok
from tests.support.flows import flow_yaml
from tests.support.processes import Gateway, WorkerFactory
from tests.support.runs import submit
from tests.support.tasks import CONTROLS
from tests.support.waiting import wait_terminal

CHATTY = flow_yaml("chatty", "chatty_after", defaults="{x: 7}")


def ended_run(gateway: Gateway, workflow: bytes) -> str:
    with gateway.client() as client:
        run_id = submit(client, workflow)
        assert wait_terminal(client, run_id)["status"] == "COMPLETED"
    return run_id


def test_logs_prints_a_line_per_record_filters_by_task_and_notes_a_cut_log(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker(env={"PYOCO_RUN_LOG_MAX_BYTES": "600"})
    run_id = ended_run(gateway, CHATTY)
    cut = ended_run(gateway, flow_yaml("talk", defaults="{lines: 100, width: 10}"))

    text = ok("logs", run_id[:8], "--server", gateway.url)
    only = ok("--server", gateway.url, "logs", run_id, "--task", "chatty_after")
    as_json = ok("--server", gateway.url, "logs", "--run-id", run_id, "--output", "json")
    cut_text = ok("--server", gateway.url, "logs", cut)

    lines = text.stdout.splitlines()
    moment, task, source, message = lines[0].split(" ", 3)
    assert datetime.datetime.fromisoformat(moment).microsecond % 1000 == 0
    assert (task, source, message) == ("chatty", "stdout", "out 7")
    fields = [line.split(" ", 3)[1:] for line in lines if not line.startswith(" ")]
    assert ["chatty", "WARNING", "warning 7"] in fields
    assert ["-", "stdout", "thread 7"] in fields
    assert fields[-1] == ["chatty_after", "stdout", "after 7"]
    assert text.stderr == ""
    assert [line.split(" ", 1)[1] for line in only.stdout.splitlines()] == [
        "chatty_after stdout after 7"
    ]
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [record["message"] for record in records][:2] == ["out 7", "err 7"]
    assert {record["run_id"] for record in records} == {run_id}
    assert len(cut_text.stdout.splitlines()) == 61  # 600 bytes of 10-character lines, then one
    assert cut_text.stdout.splitlines()[-1].endswith(
        "- system log limit of 600 bytes reached; 400 bytes dropped"
    )
    assert cut_text.stderr == "note: the run's log reached its limit; later output was dropped\n"


def test_text_output_escapes_what_could_drive_the_terminal_but_colours(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    """A task's output must not retitle, clear or overwrite the terminal of whoever reads it (an
    admin reading another tenant's run); --raw and JSON output keep it as written."""
    start_worker()
    run_id = ended_run(gateway, flow_yaml("print_controls"))

    text = ok("--server", gateway.url, "logs", run_id).stdout
    raw = ok("--server", gateway.url, "logs", run_id, "--raw").stdout
    as_json = ok("--server", gateway.url, "logs", run_id, "--output", "json").stdout

    # Printed to a pipe, click drops the CSI sequences (colours, clearing) either way.
    assert text.split(" ", 3)[3] == "red \\x1b]0;retitled\\x07 \\x1b[2J\tback\\x0dover\n"
    assert raw.split(" ", 3)[3] == "red \x1b]0;retitled\x07 \tback\rover\n"
    assert json.loads(as_json)["message"] == CONTROLS


def test_only_colours_tabs_and_line_feeds_are_shown_as_they_are() -> None:
    """What a terminal gets, where click passes everything on."""
    assert _shown(CONTROLS + "\nnext\x00\x7f\x9b") == (
        "\x1b[31mred\x1b[0m \\x1b]0;retitled\\x07 \\x1b[2J\tback\\x0dover\nnext\\x00\\x7f\\x9b"
    )


def test_logs_of_an_unknown_run_is_one_line_and_a_hint(gateway: Gateway) -> None:
    result = invoke("--server", gateway.url, "logs", "0b6f4a1e-0000-4000-8000-000000000000")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 2
    assert "0b6f4a1e-0000-4000-8000-000000000000" in result.stderr


def test_logs_follow_prints_records_as_the_run_writes_them(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker()
    go = tmp_path / "go"
    with gateway.client() as client:
        run_id = submit(client, flow_yaml("talk", defaults=f"{{lines: 3, go_file: '{go}'}}"))
    follower = subprocess.Popen(
        [sys.executable, "-m", "pyoco_client.cli", "logs", run_id, "--follow"],
        env={"PYOCO_SERVER_URL": gateway.url, "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follower.stdout is not None
        first = follower.stdout.readline()  # printed while the task waits for `go`
        assert first.split(" ", 1)[1] == "talk stdout .........0\n"
        go.touch()
        rest, errors = follower.communicate(timeout=60)
    finally:
        follower.kill()
        follower.wait()

    assert follower.returncode == 0, errors
    assert [line.split(" ", 1)[1] for line in rest.splitlines()] == [
        "talk stdout .........1",
        "talk stdout .........2",
    ]


def test_the_python_clients_page_and_follow_a_log(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker()
    run_id = ended_run(gateway, CHATTY)

    with Client(gateway.url) as client:
        page = client.logs(run_id, limit=3)
        rest = client.logs(run_id, after=page["next_after"])
        followed = list(client.follow_logs(run_id, task="chatty_after"))
        resumed = list(client.follow_logs(run_id, after=rest["items"][-2]["seq"]))

    async def follow_async() -> tuple[dict[str, Any], list[LogEvent]]:
        async with AsyncClient(gateway.url) as client:
            return await client.logs(run_id, "chatty"), [
                event async for event in client.follow_logs(run_id)
            ]

    async_page, async_events = asyncio.run(follow_async())

    assert [len(page["items"]), len(rest["items"]), rest["next_after"]] == [3, 5, None]
    assert [event.event for event in followed] == ["log", "end"]
    assert followed[0].record is not None
    assert followed[0].record["message"] == "after 7"
    assert followed[-1].status == "COMPLETED"
    assert [event.record["message"] for event in resumed if event.record] == ["after 7"]
    assert len(async_page["items"]) == 6
    messages = [event.record["message"] for event in async_events if event.record]
    assert messages == [item["message"] for item in page["items"] + rest["items"]]
    assert (async_events[-1].event, async_events[-1].status) == ("end", "COMPLETED")
