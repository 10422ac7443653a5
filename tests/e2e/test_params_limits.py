"""Params as a careless or hostile client sends them, through a real gateway and worker.

Nested deeper than 64 levels, holding text that is not Unicode, or a number of thousands of
digits: each is refused at the submit with a 400 saying what to change, on both submit paths and
on a rerun, and nothing is queued. Before, a JSON submit nested 500 deep was accepted and its
job failed to reach a run process at each of its 20 deliveries, a form's params nested 1,000
deep were a 500, and so was a lone surrogate escape in any text of a body. Params nested as
deep as allowed run, and come back whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from pyoco_server.domain.codec import MAX_NESTING
from tests.support.processes import Gateway, WorkerFactory
from tests.support.usage import problem
from tests.support.waiting import wait_terminal

ECHO_YAML = b"""\
version: 1
flow:
  graph: echo
  defaults:
    x: 0
tasks:
  echo:
    callable: tests.support.tasks:echo
"""


def nested(levels: int) -> str:
    """JSON text of `levels` arrays, one in the other, around a 1."""
    return "[" * levels + "1" + "]" * levels


def params_text(levels: int) -> str:
    """Params whose `x` makes them `levels` deep in all (the params object is the first)."""
    return '{"x": ' + nested(levels - 1) + "}"


def submit_json(client: httpx.Client, params: str) -> httpx.Response:
    body = '{"flow_name": "main", "params": ' + params + "}"
    return client.post("/runs", content=body, headers={"content-type": "application/json"})


def submit_form(client: httpx.Client, params: str) -> httpx.Response:
    return client.post(
        "/runs/yaml",
        files={"workflow": ("flow.yaml", ECHO_YAML)},
        data={"flow_name": "main", "params": params},
    )


Submit = Callable[[httpx.Client, str], httpx.Response]
SUBMITS: dict[str, Submit] = {"json": submit_json, "form": submit_form}


def unreadable(submit: Submit) -> str:
    """The reason of params the JSON reader refuses: the whole body, or the form's field."""
    return "invalid_request" if submit is submit_json else "invalid_input"


def test_params_as_deep_as_allowed_run_and_come_back_whole(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker()
    deepest = params_text(MAX_NESTING)
    with gateway.client() as client:
        response = submit_form(client, deepest)
        assert response.status_code == 201, response.text
        run = wait_terminal(client, response.json()["run_id"])

    assert run["status"] == "COMPLETED", run
    assert run["params"] == json.loads(deepest)
    assert run["task_records"]["echo"]["output"] == json.loads(nested(MAX_NESTING - 1))
    assert run["task_records"]["echo"]["output_converted"] is False


@pytest.mark.parametrize("submit", SUBMITS.values(), ids=SUBMITS.keys())
@pytest.mark.parametrize("levels", [MAX_NESTING + 1, 500, 1_000, 100_000])
def test_params_nested_deeper_are_refused_and_nothing_is_queued(
    gateway: Gateway, submit: Submit, levels: int
) -> None:
    with gateway.client() as client:
        response = submit(client, params_text(levels))
        listed = client.get("/runs").json()["items"]

    if levels <= 1_000:
        detail = str(problem(response, 400, "invalid_input")["detail"])
        assert f"more than {MAX_NESTING} levels deep" in detail
    else:  # past what the JSON reader itself takes
        detail = str(problem(response, 400, unreadable(submit))["detail"])
        assert "nested too deeply" in detail
    assert listed == []


def test_a_rerun_cannot_nest_params_deeper(gateway: Gateway, start_worker: WorkerFactory) -> None:
    start_worker()
    with gateway.client() as client:
        response = submit_form(client, '{"x": 1}')
        assert response.status_code == 201, response.text
        run_id = response.json()["run_id"]
        wait_terminal(client, run_id)
        rerun = client.post(
            f"/runs/{run_id}/rerun",
            content='{"params": ' + params_text(MAX_NESTING + 1) + "}",
            headers={"content-type": "application/json"},
        )
        listed = client.get("/runs").json()["items"]

    assert f"more than {MAX_NESTING} levels deep" in str(
        problem(rerun, 400, "invalid_input")["detail"]
    )
    assert [item["run_id"] for item in listed] == [run_id]


@pytest.mark.parametrize("submit", SUBMITS.values(), ids=SUBMITS.keys())
def test_text_that_is_not_unicode_is_refused_as_such(gateway: Gateway, submit: Submit) -> None:
    with gateway.client() as client:
        response = submit(client, '{"x": "a\\ud800b"}')

    detail = str(problem(response, 400, unreadable(submit))["detail"])
    assert "lone surrogate" in detail
    assert "NaN" not in detail


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/runs", '{"flow_name": "ma\\ud800in"}'),
        ("/runs", '{"flow_name": "main", "tags": ["a\\udc00"]}'),
        ("/runs/{run_id}/cancel", '{"reason": "oops \\ud800"}'),
        ("/runs/{run_id}/rerun", '{"params": {"x": "\\ud800"}}'),
    ],
    ids=["flow_name", "tags", "cancel-reason", "rerun-params"],
)
def test_a_lone_surrogate_anywhere_in_a_body_is_a_400_not_a_500(
    gateway: Gateway, path: str, body: str
) -> None:
    with gateway.client() as client:
        accepted = submit_json(client, '{"x": 1}')
        assert accepted.status_code == 201, accepted.text
        response = client.post(
            path.format(run_id=accepted.json()["run_id"]),
            content=body,
            headers={"content-type": "application/json"},
        )

    assert "lone surrogate" in str(problem(response, 400, "invalid_request")["detail"])


@pytest.mark.parametrize("submit", SUBMITS.values(), ids=SUBMITS.keys())
def test_a_number_of_thousands_of_digits_is_refused_in_words_a_client_can_act_on(
    gateway: Gateway, submit: Submit
) -> None:
    with gateway.client() as client:
        response = submit(client, '{"x": ' + "9" * 5_000 + "}")

    detail = str(problem(response, 400, unreadable(submit))["detail"])
    assert "more than 4300 digits; send such a number as text" in detail
    assert "sys.set_int_max_str_digits" not in detail
