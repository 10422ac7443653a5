"""flow.yaml DAGs over the real stack (gateway, NATS, worker): fan-out and fan-in with `&`, any-of
with `|`, the examples of docs/flow-yaml.md; and the mistakes the gateway catches at submit."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from pyoco_server.domain.workflow import parse_workflow
from tests.support.processes import ROOT, Gateway, WorkerFactory
from tests.support.runs import submit
from tests.support.usage import problem
from tests.support.waiting import wait_terminal

DOC = (ROOT / "docs" / "flow-yaml.md").read_text()
DOC_EXAMPLES = re.findall(r"```yaml\n(.*?)```", DOC, re.DOTALL)
FAN_EXAMPLE = next(example for example in DOC_EXAMPLES if "(double & square)" in example)


def meeting_flow(tmp_path: Path, group: str) -> bytes:
    """`start >> (slow <group> fast) >> last` whose tasks (`meet`) end only if they overlap as
    the group says: with `&`, slow and fast wait for each other; with `|`, slow waits until
    `last` has started, which it can only if `last` starts after the first of the two."""
    left, right, done = (str(tmp_path / name) for name in ("left", "right", "last"))
    slow_waits_for = right if group == "&" else done
    last = (
        '{callable: "tests.support.tasks:pair", '
        "inputs: {first: $node.slow.output, second: $node.fast.output}}"
        if group == "&"  # both results are there
        else f'{{callable: "tests.support.tasks:meet", '
        f'inputs: {{here: "{done}", there: "{done}", value: $node.fast.output}}}}'
    )
    return f"""\
version: 1
flow:
  graph: |
    start >> (slow {group} fast) >> last
  defaults: {{x: 7}}
tasks:
  start: {{callable: "tests.support.tasks:echo"}}
  slow:
    callable: "tests.support.tasks:meet"
    inputs: {{here: "{left}", there: "{slow_waits_for}", value: $node.start.output}}
  fast:
    callable: "tests.support.tasks:meet"
    inputs: {{here: "{right}", there: "{left}", value: fast}}
  last: {last}
""".encode()


def run(client: httpx.Client, workflow: bytes, **data: str) -> dict[str, Any]:
    return wait_terminal(client, submit(client, workflow, **data))


def records(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return run["task_records"]  # type: ignore[no-any-return]


def outputs(run: dict[str, Any]) -> dict[str, Any]:
    return {task: record["output"] for task, record in records(run).items()}


def test_fan_out_runs_the_branches_together_and_fan_in_gets_both(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker()
    with gateway.client() as client:
        done = run(client, meeting_flow(tmp_path, "&"), params='{"x": 5}')

    assert done["status"] == "COMPLETED", done
    assert done["tasks"] == dict.fromkeys(("start", "slow", "fast", "last"), "SUCCEEDED")
    assert records(done)["last"]["output"] == [5, "fast"]
    slow, fast, last = (records(done)[name] for name in ("slow", "fast", "last"))
    assert max(slow["started_at"], fast["started_at"]) < min(slow["ended_at"], fast["ended_at"])
    assert last["started_at"] >= max(slow["ended_at"], fast["ended_at"])


def test_after_any_of_the_next_task_starts_with_the_first_to_finish(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    start_worker()
    with gateway.client() as client:
        done = run(client, meeting_flow(tmp_path, "|"))

    assert done["status"] == "COMPLETED", done
    assert done["tasks"] == dict.fromkeys(("start", "slow", "fast", "last"), "SUCCEEDED")
    slow, last = records(done)["slow"], records(done)["last"]
    assert last["output"] == "fast"
    assert last["started_at"] < slow["ended_at"]  # slow waited for last to start


def test_the_fan_out_example_of_the_docs_runs_as_written(
    gateway: Gateway, start_worker: WorkerFactory
) -> None:
    start_worker()
    with gateway.client() as client:
        first = run(client, FAN_EXAMPLE.encode())
        again = run(client, FAN_EXAMPLE.encode(), params='{"x": 9}')

    assert first["status"] == "COMPLETED", first
    assert outputs(first) == {"add_one": 4, "double": 8, "square": 16, "total": 24}
    assert "`total` is 120" in DOC
    assert outputs(again)["total"] == 120


@pytest.mark.parametrize("example", DOC_EXAMPLES, ids=range(len(DOC_EXAMPLES)))
def test_every_example_of_the_docs_is_a_valid_flow_yaml(example: str) -> None:
    workflow = parse_workflow(example.encode())

    assert workflow.plan.tasks


ETL = b"""\
version: 1
flow:
  graph: load >> count_rows
  defaults: {source: a.csv, count: 10}
tasks:
  load: {callable: "tests.support.tasks:echo"}
  count_rows: {callable: "tests.support.tasks:echo"}
"""


def test_mistakes_are_refused_at_submit_with_the_known_names(gateway: Gateway) -> None:
    undeclared = ETL.replace(b"load >> count_rows", b"load >> (count_rows & save)")
    no_callable = ETL.replace(
        b'count_rows: {callable: "tests.support.tasks:echo"}', b"count_rows: {}"
    )
    with gateway.client() as client:

        def post(workflow: bytes, params: str = "{}") -> httpx.Response:
            return client.post(
                "/runs/yaml",
                files={"workflow": ("flow.yaml", workflow)},
                data={"flow_name": "main", "params": params},
            )

        typo = problem(post(ETL, '{"sorce": "b.csv"}'), 422, "unknown_params")
        missing = problem(post(undeclared), 422, "undeclared_task")
        callable_ = problem(post(no_callable), 422, "missing_callable")
        listed = client.get("/runs").json()["items"]

    assert "params ['sorce'] are used by no task and no default; known: source, count" in str(
        typo["detail"]
    )
    assert "['save']" in str(missing["detail"])
    assert "declared: load, count_rows" in str(missing["detail"])
    assert "tasks.count_rows has neither 'callable:' nor 'use:'" in str(callable_["detail"])
    assert listed == []  # nothing was stored
