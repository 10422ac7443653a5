"""The seed README's walkthrough with the real `pyoco-client` process: submit-yaml, then get."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.cli import document, run_cli
from tests.support.processes import Gateway, WorkerFactory
from tests.support.waiting import TERMINAL, wait_until


def test_seed_walkthrough_completes_with_outputs(
    gateway: Gateway, start_worker: WorkerFactory, flow_file: Path
) -> None:
    start_worker(tags=["hello"], worker_id="w1")
    submitted = run_cli(
        "--server", gateway.url,
        "submit-yaml", "--workflow-file", "flow.yaml", "--flow-name", "main", "--tag", "hello",
        cwd=flow_file.parent,
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    accepted = document(submitted.stdout)
    assert accepted["status"] == "PENDING"
    assert accepted["tag"] == "hello"
    assert accepted["flow_name"] == "main"

    def terminal() -> dict[str, Any] | None:
        result = run_cli("--server", gateway.url, "get", accepted["run_id"], "--records")
        assert result.returncode == 0, result.stderr
        run = document(result.stdout)
        return run if run["status"] in TERMINAL else None

    run: dict[str, Any] = wait_until(terminal, timeout=60, what="the run to end")  # type: ignore[assignment]
    assert run["status"] == "COMPLETED", run
    assert run["tasks"] == {"add_one": "SUCCEEDED", "to_text": "SUCCEEDED"}
    assert run["task_records"]["add_one"]["output"] == 2
    assert run["task_records"]["to_text"]["output"] == "2"
    assert run["params"] == {"x": 1}
