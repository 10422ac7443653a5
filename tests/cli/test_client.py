"""`pyoco_client.Client`, the facade over the generated SDK: plain dicts out, one error tree."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from pyoco_client import (
    Client,
    ClientError,
    ConnectionFailed,
    ProblemError,
    RunNotFound,
)
from tests.support.flows import FLOW_YAML
from tests.support.processes import Gateway, WorkerFactory, free_port
from tests.support.servers import ForeignServer
from tests.support.waiting import wait_until


def test_submit_get_and_tasks_return_plain_dicts(gateway: Gateway) -> None:
    with Client(gateway.url) as client:
        assert client.health() == {"status": "ok"}
        accepted = client.submit("main", params={"x": [1, 2]}, tag="t1", tags=("a", "b"))
        assert accepted == {
            "run_id": accepted["run_id"],
            "status": "PENDING",
            "flow_name": "main",
            "tag": "t1",
            "warnings": [accepted["warnings"][0]],  # no worker serves t1
        }
        assert "'t1'" in accepted["warnings"][0]
        run = client.get(accepted["run_id"])
        assert run["params"] == {"x": [1, 2]}
        assert run["tags"] == ["a", "b"]
        assert json.loads(json.dumps(run)) == run  # JSON through and through
        tasks = client.tasks(accepted["run_id"])
        assert tasks["task_records"] == {}


def test_submit_yaml_runs_to_completion(gateway: Gateway, start_worker: WorkerFactory) -> None:
    start_worker(tags=["hello"])
    with Client(gateway.url) as client:
        accepted = client.submit_yaml(FLOW_YAML, "main", tag="hello", params={"x": 9})

        def completed() -> dict[str, object] | None:
            run = client.get(accepted["run_id"], records=True)
            return run if run["status"] == "COMPLETED" else None

        run = wait_until(completed, timeout=30, what="the run to complete")
    assert run["task_records"]["to_text"]["output"] == "10"  # type: ignore[index]


def test_problems_carry_their_fields(gateway: Gateway) -> None:
    with Client(gateway.url) as client, pytest.raises(ProblemError) as caught:
        client.submit_yaml(b"version: 1\nflows: {}\n", "main")
    problem = caught.value
    assert problem.status == 422
    assert problem.title == "Unprocessable Entity"
    assert problem.detail is not None
    assert "one flow per file" in problem.detail
    assert problem.reason is not None
    assert str(problem) == f"HTTP 422 Unprocessable Entity: {problem.detail}"


def test_unknown_run_is_run_not_found(gateway: Gateway) -> None:
    with Client(gateway.url) as client, pytest.raises(RunNotFound) as caught:
        client.get("no-such-run")
    assert caught.value.run_id == "no-such-run"
    assert caught.value.status == 404
    assert caught.value.reason == "run_not_found"


def test_no_server_is_connection_failed() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with Client(url) as client, pytest.raises(ConnectionFailed) as caught:
        client.health()
    assert caught.value.url == url
    assert isinstance(caught.value, ClientError)


@pytest.fixture
def foreign() -> Iterator[ForeignServer]:
    """A small HTTP server standing in for a proxy or a server that is not pyoco-server."""
    with ForeignServer() as server:
        yield server


def test_an_error_page_that_is_not_a_problem_is_a_problem_error(foreign: ForeignServer) -> None:
    with Client(foreign.url) as client, pytest.raises(ProblemError) as caught:
        client.get("abc")
    assert caught.value.status == 502
    assert caught.value.title == "Bad Gateway"
    assert caught.value.detail == "<html><body> <h1>502 Bad Gateway</h1></body></html>"


def test_an_answer_outside_the_api_is_a_client_error(foreign: ForeignServer) -> None:
    with Client(foreign.url) as client, pytest.raises(ClientError) as caught:
        client.health()
    assert "does not follow the pyoco-server API" in str(caught.value)


def test_the_api_key_goes_in_its_header_without_prefix(foreign: ForeignServer) -> None:
    keyed = Client(foreign.url, api_key="k-123", api_key_header="X-Custom-Key")
    with keyed as client, pytest.raises(ClientError):
        client.health()
    assert foreign.headers_seen[-1]["X-Custom-Key"] == "k-123"
    with Client(foreign.url) as client, pytest.raises(ClientError):
        client.health()
    assert "X-API-Key" not in foreign.headers_seen[-1]


def test_params_that_are_not_json_fail_before_sending() -> None:
    with Client(f"http://127.0.0.1:{free_port()}") as client:
        with pytest.raises(ValueError, match="JSON compliant"):
            client.submit("main", params={"x": float("nan")})
        with pytest.raises(TypeError, match="set is not JSON serializable"):
            client.submit_yaml(FLOW_YAML, "main", params={"x": {1, 2}})
