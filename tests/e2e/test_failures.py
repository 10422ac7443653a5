"""What happens to runs that cannot complete: failing tasks, unknown flows, invalid jobs."""

from __future__ import annotations

from pyoco_server.local.natsserver import NatsServer
from tests.support.flows import FLOW_YAML, flow_yaml
from tests.support.nats import dead_letters, publish_raw
from tests.support.processes import Gateway, WorkerFactory
from tests.support.runs import submit
from tests.support.waiting import wait_terminal, wait_until

FAILING_YAML = flow_yaml("add_one", "fail", defaults="{x: 1}")

MISSING_CALLABLE_YAML = b"""\
version: 1
flow:
  graph: nowhere
tasks:
  nowhere: {callable: "tests.support.tasks:no_such_task"}
"""
"""A callable of an allowed module that does not exist (the worker cannot load it)."""


def test_failing_task_fails_the_run_with_its_error(
    gateway: Gateway, start_worker: WorkerFactory, nats_server: NatsServer
) -> None:
    start_worker()
    with gateway.client() as client:
        run = wait_terminal(client, submit(client, FAILING_YAML))
    assert run["status"] == "FAILED"
    assert run["error_reason"] == "execution_error"
    assert "ValueError: boom: x was 1" in run["error"]
    assert run["tasks"] == {"add_one": "SUCCEEDED", "fail": "FAILED"}
    failed = run["task_records"]["fail"]
    assert failed["error"] == "boom: x was 1"
    assert "Traceback" in failed["traceback"]
    assert run["worker_id"] == "w1"
    letters = wait_until(lambda: dead_letters(nats_server.url), what="a dead letter")
    assert [(letter["reason"], letter["run_id"]) for letter in letters] == [
        ("execution_error", run["run_id"])
    ]
    assert letters[0]["job"]["workflow_yaml"] == FAILING_YAML.decode()


def test_unknown_flow_fails_with_flow_not_found(
    gateway: Gateway, start_worker: WorkerFactory, nats_server: NatsServer
) -> None:
    start_worker()
    with gateway.client() as client:
        response = client.post("/runs", json={"flow_name": "nobody_knows_me"})
        assert response.status_code == 201
        by_name = wait_terminal(client, response.json()["run_id"])
        missing_callable = wait_terminal(client, submit(client, MISSING_CALLABLE_YAML))
    assert by_name["status"] == "FAILED"
    assert by_name["error_reason"] == "flow_not_found"
    assert "--flow-resolver" in by_name["error"]
    assert missing_callable["error_reason"] == "flow_not_found"
    assert "no attribute 'no_such_task'" in missing_callable["error"]
    letters = wait_until(
        lambda: len(dead_letters(nats_server.url)) == 2 and dead_letters(nats_server.url)
    )
    assert {letter["reason"] for letter in letters} == {"flow_not_found"}
    assert {letter["run_id"] for letter in letters} == {
        by_name["run_id"],
        missing_callable["run_id"],
    }


def test_invalid_job_is_dead_lettered_and_the_worker_goes_on(
    gateway: Gateway, start_worker: WorkerFactory, nats_server: NatsServer
) -> None:
    worker = start_worker()
    publish_raw(nats_server.url, "pyoco.work.default", b"\xff not json")
    publish_raw(nats_server.url, "pyoco.work.default", b'{"run_id": "x y", "flow_name": "main"}')
    letters = wait_until(
        lambda: len(dead_letters(nats_server.url)) == 2 and dead_letters(nats_server.url),
        what="two invalid_job dead letters",
    )
    assert [letter["reason"] for letter in letters] == ["invalid_job", "invalid_job"]
    assert letters[0]["tag"] == "default"
    assert letters[0]["subject"] == "pyoco.work.default"
    assert "not UTF-8 JSON" in letters[0]["error"]
    assert letters[1]["payload"] == '{"run_id": "x y", "flow_name": "main"}'
    assert "run_id" in letters[1]["error"]
    assert worker.alive()
    with gateway.client() as client:
        run = wait_terminal(client, submit(client, FLOW_YAML))
    assert run["status"] == "COMPLETED"


def test_flow_resolver_runs_python_flows(gateway: Gateway, start_worker: WorkerFactory) -> None:
    start_worker(args=["--flow-resolver", "tests.support.flows:resolve"])
    with gateway.client() as client:
        response = client.post("/runs", json={"flow_name": "double", "params": {"x": 21}})
        assert response.status_code == 201
        run = wait_terminal(client, response.json()["run_id"])
    assert run["status"] == "COMPLETED", run
    assert run["task_records"]["double"]["output"] == 42
