"""submit, submit-yaml, get and tasks against the real gateway, NATS and workers."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.support.cli import document, error_lines, invoke, ok
from tests.support.flows import flow_yaml
from tests.support.processes import Gateway, WorkerFactory
from tests.support.waiting import wait_terminal, wait_until


def test_submit_merges_params_file_then_params_then_param(gateway: Gateway, tmp_path: Path) -> None:
    params_file = tmp_path / "params.yaml"
    params_file.write_text("a: file\nb: file\nc: file\nnested: {k: [1, 2]}\n")
    result = invoke(
        "--server", gateway.url, "submit", "--flow-name", "nightly",
        "--params-file", str(params_file),
        "--params", '{"b": "params", "c": "params"}',
        "--param", "c=3", "--param", "d=", "--param", "e=hello", "--param", 'f=[1, "x"]',
        "--param", "g=true", "--param", "h=a=b", "--param", "e=again",
        "--tag", "batch", "--tags", "team-a, nightly,,",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    accepted = document(result.stdout)
    assert accepted["status"] == "PENDING"
    assert accepted["flow_name"] == "nightly"
    assert accepted["tag"] == "batch"

    # No worker serves the tag: the run stays PENDING with the params as submitted.
    stored = document(invoke("--server", gateway.url, "get", accepted["run_id"]).stdout)
    assert stored["params"] == {
        "a": "file",
        "b": "params",
        "c": 3,
        "d": "",
        "e": "again",
        "f": [1, "x"],
        "g": True,
        "h": "a=b",
        "nested": {"k": [1, 2]},
    }
    assert stored["tags"] == ["team-a", "nightly"]
    assert stored["status"] == "PENDING"


def test_submit_reads_a_json_params_file_and_defaults_to_flow_main(
    gateway: Gateway, tmp_path: Path
) -> None:
    params_file = tmp_path / "params.json"
    params_file.write_text(json.dumps({"x": 1, "text": "ü"}), encoding="utf-8")
    result = invoke("--server", gateway.url, "submit", "--params-file", str(params_file))
    assert result.exit_code == 0, result.stderr
    accepted = document(result.stdout)
    assert accepted["flow_name"] == "main"
    assert accepted["tag"] == "default"
    shown = invoke("--server", gateway.url, "get", accepted["run_id"]).stdout
    assert '"text": "ü"' in shown  # UTF-8 JSON, not \u escapes
    assert document(shown)["params"] == {"x": 1, "text": "ü"}


def test_submit_without_params_sends_none(gateway: Gateway) -> None:
    accepted = document(invoke("--server", gateway.url, "submit").stdout)
    stored = document(invoke("--server", gateway.url, "get", accepted["run_id"]).stdout)
    assert stored["params"] == {}


def test_submit_yaml_params_override_defaults_on_the_default_tag(
    gateway: Gateway, start_worker: WorkerFactory, flow_file: Path
) -> None:
    start_worker()
    result = invoke(
        "--server", gateway.url, "submit-yaml", "--workflow-file", str(flow_file),
        "--flow-name", "main", "--params", '{"x": 41}',
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    accepted = document(result.stdout)
    assert accepted["tag"] == "default"
    with gateway.client() as client:
        run = wait_terminal(client, accepted["run_id"])
    assert run["status"] == "COMPLETED", run
    assert run["params"] == {"x": 41}


@pytest.fixture
def completed_run_id(gateway: Gateway, start_worker: WorkerFactory, flow_file: Path) -> str:
    start_worker(tags=["hello"])
    result = invoke(
        "--server", gateway.url, "submit-yaml", "--workflow-file", str(flow_file),
        "--flow-name", "main", "--tag", "hello",
    )  # fmt: skip
    run_id: str = document(result.stdout)["run_id"]
    with gateway.client() as client:
        assert wait_terminal(client, run_id)["status"] == "COMPLETED"
    return run_id


def test_get_leaves_records_out_unless_asked(gateway: Gateway, completed_run_id: str) -> None:
    plain = document(invoke("--server", gateway.url, "get", completed_run_id).stdout)
    assert plain["run_id"] == completed_run_id
    assert plain["status"] == "COMPLETED"
    assert "task_records" not in plain

    full = document(invoke("--server", gateway.url, "get", completed_run_id, "--records").stdout)
    assert full["task_records"]["to_text"]["output"] == "2"
    assert full["task_records"]["add_one"]["inputs"] == {"x": 1}
    assert full["task_records_truncated"] is False


def test_tasks_shows_states_and_records(gateway: Gateway, completed_run_id: str) -> None:
    result = invoke("--server", gateway.url, "tasks", completed_run_id)
    assert result.exit_code == 0, result.stderr
    tasks = document(result.stdout)
    assert set(tasks) == {
        "run_id", "flow_name", "status", "tasks", "task_records", "task_records_truncated",
    }  # fmt: skip
    assert tasks["tasks"] == {"add_one": "SUCCEEDED", "to_text": "SUCCEEDED"}
    assert tasks["task_records"]["add_one"]["output"] == 2


def test_server_defaults_to_pyoco_server_url(gateway: Gateway, completed_run_id: str) -> None:
    result = invoke("get", completed_run_id, env={"PYOCO_SERVER_URL": gateway.url})
    assert result.exit_code == 0, result.stderr
    assert document(result.stdout)["status"] == "COMPLETED"


def test_submit_yaml_wait_prints_the_outputs_and_exits_0(
    gateway: Gateway, start_worker: WorkerFactory, flow_file: Path
) -> None:
    start_worker()
    result = invoke(
        "--server", gateway.url, "submit-yaml", "--workflow-file", str(flow_file),
        "--flow-name", "main", "--params", '{"x": 41}', "--wait",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    finished = document(result.stdout)
    assert finished == {
        "run_id": finished["run_id"],
        "status": "COMPLETED",
        "outputs": {"add_one": 42, "to_text": "42"},
        "error": None,
        "error_reason": None,
    }


def test_submit_wait_exits_2_when_the_run_fails(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker(args=["--flow-resolver", "tests.support.flows:resolve"])
    done = invoke(
        "--server", gateway.url, "submit", "--flow-name", "double", "--param", "x=21", "--wait"
    )
    assert done.exit_code == 0, done.stderr
    assert document(done.stdout)["outputs"] == {"double": 42}

    failed = invoke("--server", gateway.url, "submit", "--flow-name", "triple", "--wait")
    assert failed.exit_code == 2, failed.stderr
    assert failed.stderr == ""
    result = document(failed.stdout)
    assert (result["status"], result["error_reason"]) == ("FAILED", "flow_not_found")
    assert result["outputs"] == {}

    broken = tmp_path / "broken.yaml"
    broken.write_bytes(flow_yaml("fail", defaults="{x: 1}"))
    failed_yaml = invoke(
        "--server", gateway.url, "submit-yaml", "--workflow-file", str(broken),
        "--flow-name", "main", "--wait-timeout", "60",
    )  # fmt: skip
    assert failed_yaml.exit_code == 2
    assert "boom: x was 1" in document(failed_yaml.stdout)["error"]


def test_submit_wait_exits_2_when_the_run_is_cancelled(gateway: Gateway) -> None:
    cancelled: dict[str, object] = {}

    def cancel_when_pending() -> None:
        with gateway.client() as client:
            page = wait_until(
                lambda: client.get("/runs", params={"tag": "nowhere"}).json()["items"]
            )
            run_id = page[0]["run_id"]  # type: ignore[index]
            cancelled.update(client.post(f"/runs/{run_id}/cancel").json())

    canceller = threading.Thread(target=cancel_when_pending)
    canceller.start()
    result = invoke("--server", gateway.url, "submit", "--tag", "nowhere", "--wait")
    canceller.join(timeout=30)
    assert result.exit_code == 2, result.stderr
    assert document(result.stdout)["status"] == "CANCELLED"
    assert cancelled["status"] == "CANCELLED"


def test_submit_wait_timeout_exits_1_and_names_the_run(gateway: Gateway) -> None:
    result = invoke("--server", gateway.url, "submit", "--tag", "nowhere", "--wait-timeout", "1")
    assert result.exit_code == 1
    assert result.stdout == ""
    warning, *failure = result.stderr.splitlines()
    assert warning.startswith("warning: ")
    assert "'nowhere'" in warning  # no worker serves the tag
    error, hint = error_lines("\n".join(failure))
    assert error.startswith("pyoco-client: error: run '")
    assert error.endswith("did not end within 1s")
    assert "`pyoco-client watch " in hint


def test_idempotency_key_replays_the_first_submit(gateway: Gateway, flow_file: Path) -> None:
    def submit(key: str, *args: str) -> dict[str, object]:
        return document(ok("--server", gateway.url, *args, "--idempotency-key", key).stdout)

    first = submit("k-1", "submit", "--param", "x=1")
    assert submit("k-1", "submit", "--param", "x=1") == first
    yaml_args = ("submit-yaml", "--workflow-file", str(flow_file), "--flow-name", "main")
    assert submit("k-2", *yaml_args) == submit("k-2", *yaml_args)
    reused = invoke("--server", gateway.url, "submit", "--param", "x=2", "--idempotency-key", "k-1")
    assert reused.exit_code == 1
    error, hint = error_lines(reused.stderr)
    assert error.startswith("pyoco-client: error: HTTP 409 Conflict: ")
    assert "use a new --idempotency-key" in hint
