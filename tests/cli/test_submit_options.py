"""submit and submit-yaml take the same run options; warnings go to stderr; rerun (real stack)."""

from __future__ import annotations

import json
from pathlib import Path

from pyoco_client import Client
from tests.support.cli import document, error_lines, invoke, ok
from tests.support.flows import FLOW_YAML, flow_yaml
from tests.support.processes import Gateway, WorkerFactory
from tests.support.waiting import wait_terminal

RUN_OPTIONS = (
    "--tags", "nightly,team-a", "--timeout-sec", "600",
    "--retry-max-attempts", "3", "--retry-backoff", "0.5",
)  # fmt: skip


def test_submit_and_submit_yaml_take_the_same_run_options(
    gateway: Gateway, flow_file: Path, tmp_path: Path
) -> None:
    params_file = tmp_path / "params.yaml"
    params_file.write_text("x: 5\n")
    by_name = ok(
        "--server", gateway.url, "submit", "--tag", "idle", "--params-file", str(params_file),
        "--param", "y=2", *RUN_OPTIONS,
    )  # fmt: skip
    from_yaml = ok(
        "--server", gateway.url, "submit-yaml", "--workflow-file", str(flow_file),
        "--flow-name", "main", "--tag", "idle", "--params-file", str(params_file),
        "--params", '{"x": 6}', "--param", "x=7", *RUN_OPTIONS,
    )  # fmt: skip
    with Client(gateway.url) as client:
        first = client.get(document(by_name.stdout)["run_id"])
        second = client.get(document(from_yaml.stdout)["run_id"])
    assert first["params"] == {"x": 5, "y": 2}
    assert second["params"] == {"x": 7}  # file < --params < --param, over flow.defaults
    for run in (first, second):
        assert run["tags"] == ["nightly", "team-a"]
        assert run["timeout_sec"] == 600
        assert run["retry"]["max_attempts"] == 3
        assert run["retry"]["backoff_sec"] == 0.5

    lonely = invoke("--server", gateway.url, "submit", "--retry-backoff", "1")
    assert lonely.exit_code == 1
    error, hint = error_lines(lonely.stderr)
    assert error == "pyoco-client: error: --retry-backoff needs --retry-max-attempts"
    assert "--retry-max-attempts 3" in hint


def test_submit_yaml_retries_and_times_out_as_asked(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker(env={"PYOCO_CANCEL_GRACE_PERIOD_SEC": "1"})
    failing = tmp_path / "fail.yaml"
    failing.write_bytes(flow_yaml("fail", defaults="{x: 1}"))
    retried = invoke(
        "--server", gateway.url, "submit-yaml", "--workflow-file", str(failing),
        "--flow-name", "main", "--retry-max-attempts", "2", "--retry-backoff", "0", "--wait",
    )  # fmt: skip
    assert retried.exit_code == 2, retried.stderr
    result = document(retried.stdout)
    assert result["status"] == "FAILED"
    with gateway.client() as http:
        assert len(wait_terminal(http, result["run_id"])["attempts"]) == 2

    sleepy = tmp_path / "sleep.yaml"
    sleepy.write_bytes(flow_yaml("sleep_for", defaults="{seconds: 3600}"))
    timed = invoke(
        "--server", gateway.url, "submit-yaml", "--workflow-file", str(sleepy),
        "--flow-name", "main", "--timeout-sec", "1", "--wait-timeout", "60",
    )  # fmt: skip
    assert timed.exit_code == 2, timed.stderr
    assert document(timed.stdout)["error_reason"] == "timeout"


def test_warnings_go_to_stderr_and_stdout_stays_json(gateway: Gateway, flow_file: Path) -> None:
    for command in (
        ["submit", "--tag", "nobody-serves-this"],
        ["submit-yaml", "--workflow-file", str(flow_file), "--flow-name", "main",
         "--tag", "nobody-serves-this"],
    ):  # fmt: skip
        result = ok("--server", gateway.url, *command)
        assert document(result.stdout)["warnings"]  # the answer keeps them too
        warnings = result.stderr.splitlines()
        assert warnings, "expected a warning: no worker serves the tag"
        assert all(line.startswith("warning: ") for line in warnings), warnings
        assert any("nobody-serves-this" in line for line in warnings), warnings


def test_rerun_repeats_a_run_with_overrides(
    gateway: Gateway, start_worker: WorkerFactory, flow_file: Path
) -> None:
    start_worker(tags=["default", "other"])
    first = invoke(
        "--server", gateway.url, "submit-yaml", "--workflow-file", str(flow_file),
        "--flow-name", "main", "--tags", "nightly", "--wait",
    )  # fmt: skip
    assert first.exit_code == 0, first.stderr
    original = document(first.stdout)
    assert original["outputs"] == {"add_one": 2, "to_text": "2"}

    again = invoke("--server", gateway.url, "rerun", original["run_id"][:12], "--param", "x=41")
    assert again.exit_code == 0, again.stderr
    accepted = document(again.stdout)
    assert accepted["rerun_of"] == original["run_id"]
    assert accepted["run_id"] != original["run_id"]
    with gateway.client() as http:
        rerun = wait_terminal(http, accepted["run_id"])
    assert rerun["status"] == "COMPLETED"
    assert rerun["params"] == {"x": 41}
    assert rerun["tags"] == ["nightly"]
    assert rerun["rerun_of"] == original["run_id"]
    assert rerun["task_records"]["to_text"]["output"] == "42"

    waited = invoke(
        "--server", gateway.url, "rerun", rerun["run_id"], "--tag", "other", "--wait",
        "--params", '{"x": 1}', "--idempotency-key", "again-1", "--timeout-sec", "90",
    )  # fmt: skip
    assert waited.exit_code == 0, waited.stderr
    assert document(waited.stdout)["outputs"] == {"add_one": 2, "to_text": "2"}
    with Client(gateway.url) as client:
        replayed = client.rerun(
            rerun["run_id"], {"x": 1}, tag="other", idempotency_key="again-1", timeout_sec=90
        )
        assert replayed["run_id"] == document(waited.stdout)["run_id"]
        ran = client.get(replayed["run_id"])
        assert (ran["tag"], ran["timeout_sec"]) == ("other", 90)
        assert client.get(rerun["run_id"]).get("timeout_sec") is None


def test_rerun_of_an_unknown_run(gateway: Gateway) -> None:
    result = invoke("--server", gateway.url, "rerun", "0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70")
    assert result.exit_code == 1
    error, hint = error_lines(result.stderr)
    assert error.startswith("pyoco-client: error: HTTP 404 Not Found")
    assert "unknown to this server" in hint


def test_submit_yaml_reads_a_json_params_file(gateway: Gateway, tmp_path: Path) -> None:
    workflow = tmp_path / "flow.yaml"
    workflow.write_bytes(FLOW_YAML)
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"x": 3}))
    accepted = document(
        ok(
            "--server", gateway.url, "submit-yaml", "--workflow-file", str(workflow),
            "--flow-name", "main", "--tag", "idle", "--params-file", str(params),
        ).stdout
    )  # fmt: skip
    with Client(gateway.url) as client:
        assert client.get(accepted["run_id"])["params"] == {"x": 3}
