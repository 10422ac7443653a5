"""The seed README's walkthrough over HTTP: flow.yaml in, COMPLETED with outputs out."""

from __future__ import annotations

from tests.support.flows import FLOW_YAML
from tests.support.processes import Gateway, WorkerFactory
from tests.support.waiting import wait_terminal


def test_seed_flow_yaml_completes_with_outputs(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker(tags=["hello"], worker_id="w1")
    with gateway.client() as client:
        response = client.post(
            "/runs/yaml",
            files={"workflow": ("flow.yaml", FLOW_YAML)},
            data={"flow_name": "main", "tag": "hello"},
        )
        assert response.status_code == 201, response.text
        accepted = response.json()
        assert accepted["status"] == "PENDING"
        assert response.headers["location"] == f"/runs/{accepted['run_id']}"

        run = wait_terminal(client, accepted["run_id"])

    assert run["status"] == "COMPLETED", run
    assert run["tasks"] == {"add_one": "SUCCEEDED", "to_text": "SUCCEEDED"}
    records = run["task_records"]
    assert records["add_one"]["output"] == 2
    assert records["to_text"]["output"] == "2"
    assert run["worker_id"] == "w1"
    assert run["attempt"] == 1
    assert run["params"] == {"x": 1}
    assert run["tag"] == "hello"


def test_params_override_flow_defaults(gateway: Gateway, start_worker: WorkerFactory) -> None:
    start_worker()
    with gateway.client() as client:
        response = client.post(
            "/runs/yaml",
            files={"workflow": ("flow.yaml", FLOW_YAML)},
            data={"flow_name": "main", "params": '{"x": 41}'},
        )
        assert response.status_code == 201, response.text
        run = wait_terminal(client, response.json()["run_id"])
    assert run["status"] == "COMPLETED"
    assert run["params"] == {"x": 41}
    assert run["task_records"]["to_text"]["output"] == "42"
