"""FlowSource builds `&` and `|` groups as pyoco's Python DSL does, reads each file once, and
pyoco's engine really runs the branches side by side."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import pytest
from pyoco.core.models import Flow, Task

from pyoco_server.domain import graph
from pyoco_server.domain.graphsyntax import Expr, read_graph
from pyoco_server.domain.records import Job
from pyoco_server.domain.snapshot import RunStatus, TaskState
from pyoco_server.domain.trust import TaskPolicy
from pyoco_worker.engine import run_job
from pyoco_worker.execution import Outcome
from pyoco_worker.flows import FlowSource

TESTS = TaskPolicy(modules=("tests.support.tasks",))

FAN_YAML = """\
flow:
  graph: |
    start >> (left & right) >> join
tasks:
  start: {callable: "tests.support.tasks:echo", inputs: {x: 1}}
  left: {callable: "tests.support.tasks:echo", inputs: {x: 2}}
  right: {callable: "tests.support.tasks:echo", inputs: {x: 3}}
  join: {callable: "tests.support.tasks:pair", inputs: {first: $node.left.output, second: $node.right.output}}
"""


def job(yaml: str, params: dict[str, object] | None = None) -> Job:
    return Job(
        run_id="r1",
        flow_name="main",
        tag="default",
        tags=("default",),
        params=params or {},
        submitted_at=1.0,
        workflow_yaml=yaml,
        workflow_yaml_sha256=hashlib.sha256(yaml.encode()).hexdigest(),
        workflow_yaml_bytes=len(yaml.encode()),
    )


def tasks_of(flow: Flow) -> dict[str, Task]:
    return {task.name: task for task in flow.tasks}


def after(task: Task) -> list[str]:
    return sorted(dependency.name for dependency in task.dependencies)


def test_fan_out_and_fan_in_depend_as_written() -> None:
    tasks = tasks_of(FlowSource(policy=TESTS).build(job(FAN_YAML)).flow)

    assert {name: after(task) for name, task in tasks.items()} == {
        "start": [],
        "left": ["start"],
        "right": ["start"],
        "join": ["left", "right"],
    }
    assert sorted(task.name for task in tasks["start"].dependents) == ["left", "right"]
    assert next(iter(tasks["left"].dependencies)) is tasks["start"]
    assert {task.trigger_policy for task in tasks.values()} == {"ALL"}


def test_after_an_any_of_group_the_next_task_triggers_on_any() -> None:
    yaml = FAN_YAML.replace("(left & right)", "(left | right)")

    tasks = tasks_of(FlowSource(policy=TESTS).build(job(yaml)).flow)

    assert tasks["join"].trigger_policy == "ANY"
    assert after(tasks["join"]) == ["left", "right"]
    assert tasks["left"].trigger_policy == "ALL"


def test_named_nodes_are_tasks_of_their_own() -> None:
    yaml = FAN_YAML.replace("(left & right)", "(left & again: left)").replace("right", "again")

    tasks = tasks_of(FlowSource(policy=TESTS).build(job(yaml)).flow)

    assert tasks["again"] is not tasks["left"]
    assert tasks["again"].func is tasks["left"].func
    assert tasks["again"].inputs == tasks["left"].inputs == {"x": 2}
    assert after(tasks["join"]) == ["again", "left"]


def test_each_build_gets_fresh_tasks_but_reads_the_file_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[str] = []

    def counted(text: str, pipes: Mapping[str, str]) -> Expr:
        reads.append(text)
        return read_graph(text, pipes)

    monkeypatch.setattr(graph, "read_graph", counted)
    source = FlowSource(policy=TESTS)

    first = tasks_of(source.build(job(FAN_YAML)).flow)
    second = tasks_of(source.build(job(FAN_YAML)).flow)

    assert len(reads) == 1
    for name in first:
        assert first[name] is not second[name]
        assert first[name].dependencies is not second[name].dependencies
    assert next(iter(second["join"].dependencies)) in (second["left"], second["right"])
    assert all(dependency in second.values() for dependency in second["join"].dependencies)


def test_control_flow_graphs_are_still_built_by_pyoco() -> None:
    yaml = FAN_YAML.replace(
        "start >> (left & right) >> join", "start >> switch(on={{mode}}){ a: left; default: right }"
    )

    flow = FlowSource(policy=TESTS).build(job(yaml)).flow

    assert flow.has_control_flow()
    assert set(tasks_of(flow)) == {"start", "left", "right"}


def meeting_yaml(tmp_path: Path, group: str) -> str:
    """`start >> (slow <group> fast) >> last`: with `&` the branches must run at once (they
    meet); with `|` `last` must start while `slow` still waits for it."""
    left, right, done = (str(tmp_path / name) for name in ("left", "right", "last"))
    slow_waits_for = right if group == "&" else done
    return f"""\
flow:
  graph: start >> (slow {group} fast) >> last
tasks:
  start: {{callable: "tests.support.tasks:echo", inputs: {{x: 0}}}}
  slow:
    callable: "tests.support.tasks:meet"
    inputs: {{here: "{left}", there: "{slow_waits_for}", value: slow}}
  fast:
    callable: "tests.support.tasks:meet"
    inputs: {{here: "{right}", there: "{left}", value: fast}}
  last:
    callable: "tests.support.tasks:meet"
    inputs: {{here: "{done}", there: "{done}", value: $node.fast.output}}
"""


def started(outcome: Outcome, task: str) -> float:
    value = outcome.records[task].started_at
    assert value is not None
    return value


def ended(outcome: Outcome, task: str) -> float:
    value = outcome.records[task].ended_at
    assert value is not None
    return value


def test_all_of_branches_run_at_the_same_time(tmp_path: Path) -> None:
    outcome = run_job(FlowSource(policy=TESTS), job(meeting_yaml(tmp_path, "&")), lambda _: None)

    assert outcome.status is RunStatus.COMPLETED, outcome.error
    assert set(outcome.tasks.values()) == {TaskState.SUCCEEDED}
    assert outcome.records["last"].output == "fast"
    assert started(outcome, "last") >= max(ended(outcome, "slow"), ended(outcome, "fast"))


def test_after_any_of_the_next_task_starts_with_the_first(tmp_path: Path) -> None:
    outcome = run_job(FlowSource(policy=TESTS), job(meeting_yaml(tmp_path, "|")), lambda _: None)

    assert outcome.status is RunStatus.COMPLETED, outcome.error
    assert set(outcome.tasks.values()) == {TaskState.SUCCEEDED}
    assert ended(outcome, "slow") >= started(outcome, "last")
