"""workers, worker hide/unhide, dlq list/redrive and metrics against the real gateway, NATS
and workers."""

from __future__ import annotations

import json

from tests.support.cli import document, error_lines, invoke, ok
from tests.support.processes import Gateway, WorkerFactory
from tests.support.waiting import wait_until


def workers(gateway: Gateway, *args: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = json.loads(
        ok("--server", gateway.url, "workers", *args).stdout
    )
    return found


def test_workers_hide_and_unhide(gateway: Gateway, start_worker: WorkerFactory) -> None:
    start_worker(tags=["a", "b"], worker_id="w-ops")
    (listed,) = workers(gateway)
    assert (listed["worker_id"], listed["tags"], listed["hidden"]) == ("w-ops", ["a", "b"], False)
    assert workers(gateway, "--state", "RUNNING") == []
    assert [worker["worker_id"] for worker in workers(gateway, "--state", "IDLE")] == ["w-ops"]

    table = ok("--server", gateway.url, "workers", "--output", "table").stdout.splitlines()
    assert table[0].split() == ["worker_id", "state", "tags", "runs", "last_seen"]
    assert table[1].split()[:4] == ["w-ops", "IDLE", "a,b", f"0/{listed['concurrency']}"]

    hidden = document(ok("--server", gateway.url, "worker", "hide", "w-ops").stdout)
    assert (hidden["worker_id"], hidden["hidden"]) == ("w-ops", True)
    assert workers(gateway) == []
    assert [worker["hidden"] for worker in workers(gateway, "--include-hidden")] == [True]
    assert workers(gateway, "--scope", "all", "--include-hidden", "--limit", "1")[0]["hidden"]

    shown = document(ok("--server", gateway.url, "worker", "unhide", "w-ops").stdout)
    assert shown["hidden"] is False
    assert [worker["worker_id"] for worker in workers(gateway)] == ["w-ops"]

    missing = invoke("--server", gateway.url, "worker", "hide", "nobody")
    assert missing.exit_code == 1
    error, hint = error_lines(missing.stderr)
    assert error.startswith("pyoco-client: error: HTTP 404 Not Found: ")
    assert "`pyoco-client workers --scope all --include-hidden` lists the worker ids" in hint


def test_dlq_list_and_redrive(gateway: Gateway, start_worker: WorkerFactory) -> None:
    """A run of a flow its worker does not know is dead-lettered (`flow_not_found`); once a
    worker that knows the flow serves the tag, a redrive runs it to completion."""
    unaware = start_worker(tags=["dlq"], worker_id="w-unaware")
    failed = invoke(
        "--server", gateway.url, "submit", "--flow-name", "double", "--tag", "dlq",
        "--param", "x=21", "--wait",
    )  # fmt: skip
    assert failed.exit_code == 2
    run_id = document(failed.stdout)["run_id"]

    page = document(ok("--server", gateway.url, "dlq", "list").stdout)
    (letter,) = page["items"]
    assert (letter["run_id"], letter["reason"], letter["tag"]) == (run_id, "flow_not_found", "dlq")
    assert letter["redrivable"] is True
    assert page["next_cursor"] is None
    assert (
        document(ok("--server", gateway.url, "dlq", "list", "--reason", "timeout").stdout)["items"]
        == []
    )

    table = ok("--server", gateway.url, "dlq", "list", "--output", "table", env={"COLUMNS": "120"})
    header, row = table.stdout.splitlines()
    assert header.split() == ["id", "reason", "tag", "run_id", "time"]
    assert row.split()[:4] == [letter["id"], "flow_not_found", "dlq", run_id]

    unaware.stop()
    start_worker(
        tags=["dlq"], worker_id="w-aware", args=["--flow-resolver", "tests.support.flows:resolve"]
    )
    redriven = document(ok("--server", gateway.url, "dlq", "redrive", letter["id"]).stdout)
    assert redriven["run_id"] == run_id
    with gateway.client() as client:
        run = wait_until(
            lambda: (
                (body := client.get(f"/runs/{run_id}").json())["status"] == "COMPLETED" and body
            ),
            timeout=30,
            what="the redriven run to complete",
        )
    assert run["attempt"] == 2  # type: ignore[index]
    assert document(ok("--server", gateway.url, "dlq", "list").stdout)["items"] == []

    gone = invoke("--server", gateway.url, "dlq", "redrive", letter["id"])
    assert gone.exit_code == 1
    assert "`pyoco-client dlq list` lists the dead letters' ids" in error_lines(gone.stderr)[1]


def test_metrics_prints_the_prometheus_text(gateway: Gateway) -> None:
    ok("--server", gateway.url, "submit", "--tag", "idle")
    text = ok("--server", gateway.url, "metrics").stdout
    assert text.startswith("# HELP ")
    assert "pyoco_runs" in text
    assert text.endswith("\n")
    assert not text.endswith("\n\n")
