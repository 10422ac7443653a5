"""Mistakes caught at submit: a task without a callable, a graph naming an undeclared task, and
params the flow does not know (`check_params`), each naming the problem and the known names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyoco_server.domain import graph, graphsyntax, workflow
from pyoco_server.domain.errors import InvalidWorkflow
from pyoco_server.domain.workflow import check_params, parse_workflow
from tests.support.flows import FLOW_YAML
from tests.support.processes import ROOT

ETL = """\
flow:
  graph: load >> count_rows
  defaults: {source: a.csv, count: 10}
tasks:
  load: {callable: "etl.tasks:load"}
  count_rows: {callable: "etl.tasks:count_rows"}
"""


def refused(raw: str) -> InvalidWorkflow:
    with pytest.raises(InvalidWorkflow) as info:
        parse_workflow(raw.encode())
    return info.value


def unknown(raw: str | bytes, params: dict[str, object]) -> InvalidWorkflow:
    workflow = parse_workflow(raw.encode() if isinstance(raw, str) else raw)
    with pytest.raises(InvalidWorkflow) as info:
        check_params(workflow, params)
    return info.value


@pytest.mark.parametrize("body", ["{}", "", "{inputs: {x: 1}}", "{outputs: [scratch.a]}"])
def test_a_task_without_callable_or_use_is_missing_callable(body: str) -> None:
    error = refused(f"flow:\n  graph: a\ntasks:\n  a: {body}\n")

    assert error.reason == "missing_callable"
    assert "tasks.a has neither 'callable:' nor 'use:'" in str(error)
    assert "callable: package.module:function" in str(error)


def test_a_graph_naming_undeclared_tasks_is_refused_with_the_declared_ones() -> None:
    error = refused(ETL.replace("load >> count_rows", "load >> (count_rows & sav) >> mail"))

    assert error.reason == "undeclared_task"
    assert "flow.graph names task(s) ['sav', 'mail'] that are not under 'tasks:'" in str(error)
    assert "declared: load, count_rows" in str(error)


@pytest.mark.parametrize(
    "graph",
    [
        "load >> pipe(tail)",
        "load >> copy: missing",
        "load >> switch(on={{source}}){ a: missing; default: count_rows }",
        "repeat(count=2){ missing }",
    ],
    ids=["in-a-pipe", "named-node", "switch-branch", "loop-body"],
)
def test_undeclared_tasks_are_found_everywhere_in_the_graph(graph: str) -> None:
    raw = ETL.replace("load >> count_rows", f"'{graph}'") + "pipes:\n  tail: missing\n"

    error = refused(raw)

    assert error.reason == "undeclared_task"
    assert "['missing']" in str(error)


def test_a_graph_without_tasks_says_none_are_declared() -> None:
    error = refused("flow:\n  graph: a\n")

    assert error.reason == "undeclared_task"
    assert "declared: (none)" in str(error)


def test_a_typo_in_params_is_refused_naming_the_known_ones() -> None:
    error = unknown(ETL, {"sorce": "b.csv", "count": 3})

    assert error.reason == "unknown_params"
    assert "params ['sorce'] are used by no task and no default; known: source, count" in str(error)
    assert "needs it in flow.defaults" in str(error)


def test_params_of_the_defaults_are_accepted() -> None:
    workflow = parse_workflow(ETL.encode())

    check_params(workflow, {"source": "b.csv", "count": 3})
    check_params(workflow, {})
    check_params(parse_workflow(FLOW_YAML), {"x": 41})


def test_params_read_by_task_inputs_and_graph_expressions_are_known() -> None:
    raw = """\
flow:
  graph: 'load >> switch(on={{mode}}){ fast: copy: load; default: pipe(slow) }'
  defaults: {source: a.csv}
tasks:
  load:
    callable: "etl.tasks:load"
    inputs: {path: $ctx.params.path, limit: $ctx.params.limit, text: "$ctx.params", n: 3}
  again: {use: load, inputs: {key: $ctx.params.api_key}}
pipes:
  slow: until(cond={{params.done}}, max_iter=3){ again }
"""
    workflow = parse_workflow(raw.encode())

    assert workflow.known_params == ("source", "path", "limit", "api_key", "mode", "done")
    check_params(workflow, dict.fromkeys(workflow.known_params, 1))
    assert "['pth']" in str(unknown(raw, {"pth": "x"}))


def test_a_flow_that_declares_no_params_takes_any() -> None:
    # Its tasks take params by parameter name, which the gateway cannot see without importing.
    raw = "flow:\n  graph: sleep\ntasks:\n  sleep: {callable: 'tests.support.tasks:sleep_for'}\n"
    workflow = parse_workflow(raw.encode())

    assert workflow.known_params == ()
    check_params(workflow, {"seconds": 1, "pid_file": "p"})


def test_several_unknown_params_are_named_in_order() -> None:
    error = unknown(ETL, {"zeta": 1, "alpha": 2, "count": 3})

    assert "params ['alpha', 'zeta']" in str(error)


def test_every_reason_is_in_openapi_and_in_the_flow_yaml_reference() -> None:
    code = "".join(
        Path(str(module.__file__)).read_text() for module in (workflow, graph, graphsyntax)
    )
    raised = set(re.findall(r'InvalidWorkflow\(\s*"(\w+)"', code))
    openapi = (ROOT / "server/src/pyoco_server/contracts/openapi.yaml").read_text()
    reference = (ROOT / "docs" / "flow-yaml.md").read_text()

    assert {"missing_callable", "undeclared_task", "unknown_params", "too_complex"} <= raised
    assert [reason for reason in sorted(raised) if f"`{reason}`" not in openapi] == []
    assert [reason for reason in sorted(raised) if f"| `{reason}` |" not in reference] == []
