"""A flow's task graph for drawing (domain/taskgraph.py) and a run's graph (services/graphs.py)."""

from __future__ import annotations

import asyncio

from pyoco_server.domain.snapshot import RunSnapshot, RunStatus, TaskState
from pyoco_server.domain.taskgraph import flow_graph
from pyoco_server.domain.workflow import parse_workflow
from pyoco_server.services.graphs import RunGraphs


def flow(graph: str, *tasks: str, pipes: str = "") -> bytes:
    lines = ["version: 1", "flow:", "  graph: |", f"    {graph}", "tasks:"]
    lines += [f'  {name}: {{callable: "tests.support.tasks:echo"}}' for name in tasks]
    return ("\n".join(lines) + "\n" + pipes).encode()


def test_groups_fan_out_and_in() -> None:
    shape = flow_graph(parse_workflow(flow("a >> (b & c) >> d", "a", "b", "c", "d")))
    assert shape.nodes == ("a", "b", "c", "d")
    assert set(shape.edges) == {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")}


def test_a_chain_named_nodes_and_pipes() -> None:
    text = flow("a >> pipe(tail)", "a", "b") + b"pipes:\n  tail: 'again: a >> b'\n"
    shape = flow_graph(parse_workflow(text))
    assert shape.nodes == ("a", "again", "b")
    assert shape.edges == (("a", "again"), ("again", "b"))


def test_a_switch_fans_out_to_its_branches_and_back() -> None:
    graph = "a >> switch(on=mode) { x: b; default: c } >> d"
    shape = flow_graph(parse_workflow(flow(graph, "a", "b", "c", "d")))
    assert set(shape.nodes) == {"a", "b", "c", "d"}
    assert set(shape.edges) == {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")}


def snapshot(tasks: dict[str, TaskState], sha256: str | None) -> RunSnapshot:
    return RunSnapshot(
        run_id="r1",
        flow_name="main",
        tag="default",
        tags=(),
        status=RunStatus.RUNNING,
        params={},
        submitted_at=1.0,
        updated_at=1.0,
        tasks=tasks,
        workflow_yaml_sha256=sha256,
    )


def test_a_runs_graph_has_live_states_and_is_parsed_once_per_file() -> None:
    raw = flow("a >> b", "a", "b")
    reads: list[str] = []

    async def read(sha256: str) -> bytes | None:
        reads.append(sha256)
        return raw if sha256 == "known" else None

    async def parse(text: bytes) -> object:
        return parse_workflow(text)

    graphs = RunGraphs(read, parse)  # type: ignore[arg-type]

    async def scenario() -> list[dict[str, object]]:
        running = snapshot({"a": TaskState.SUCCEEDED, "b": TaskState.RUNNING}, "known")
        return [
            await graphs.graph(running),
            await graphs.graph(running),
            await graphs.graph(snapshot({"x": TaskState.RUNNING}, "gone")),
            await graphs.graph(snapshot({"x": TaskState.RUNNING, "y": TaskState.PENDING}, None)),
        ]

    known, again, gone, by_name = asyncio.run(scenario())
    assert known == again
    assert known["complete"] is True
    assert known["nodes"] == [
        {"name": "a", "state": "SUCCEEDED"},
        {"name": "b", "state": "RUNNING"},
    ]
    assert known["edges"] == [{"source": "a", "target": "b"}]
    assert reads == ["known", "gone"]  # the known file was read and parsed once
    assert gone["complete"] is False
    assert gone["nodes"] == [{"name": "x", "state": "RUNNING"}]
    assert by_name == {
        "run_id": "r1",
        "status": "RUNNING",
        "nodes": [{"name": "x", "state": "RUNNING"}, {"name": "y", "state": "PENDING"}],
        "edges": [],
        "complete": False,
    }
