"""A flow's task graph for drawing: its tasks as nodes, what runs after what as edges.

A graph read into steps (`Workflow.plan.steps`: chains, `&` and `|` groups, pipes) gives an
edge from each step a task runs after to that task, so `a >> (b & c) >> d` is a→b, a→c, b→d,
c→d. A graph with pyoco's control flow (switch, repeat, foreach, until) is read with pyoco's
parser: the parts of a chain follow one another, a switch fans out to the first task of each
branch and in again from the last ones, and a loop's body is drawn once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from pyoco.dsl.graph import parse_graph, resolve_pipe_refs
from pyoco.dsl.graph_terms import Pipeline, SwitchTerm, TaskTerm, Term

from pyoco_server.domain.workflow import Workflow

Edge = tuple[str, str]


@dataclasses.dataclass(frozen=True, slots=True)
class TaskGraph:
    """Nodes in the order the graph names them, and edges `(source, target)`."""

    nodes: tuple[str, ...]
    edges: tuple[Edge, ...]


def flow_graph(workflow: Workflow) -> TaskGraph:
    """The task graph of a parsed flow.yaml."""
    steps = workflow.plan.steps
    if steps is not None:
        return TaskGraph(
            tuple(step.name for step in steps),
            tuple(dict.fromkeys((source, step.name) for step in steps for source in step.after)),
        )
    pipeline = resolve_pipe_refs(parse_graph(workflow.graph), dict(workflow.pipes))
    drawing = _Drawing()
    drawing.pipeline(pipeline)
    return TaskGraph(tuple(drawing.nodes), tuple(drawing.edges))


class _Drawing:
    """Nodes and edges of a pyoco pipeline, gathered in the order written."""

    def __init__(self) -> None:
        self.nodes: dict[str, None] = {}
        self.edges: dict[Edge, None] = {}

    def pipeline(self, pipeline: Pipeline) -> tuple[list[str], list[str]]:
        """Draw a chain of terms; its first and last nodes."""
        heads: list[str] = []
        tails: list[str] = []
        for position, term in enumerate(pipeline.terms):
            term_heads, term_tails = self.term(term)
            if position == 0:
                heads = term_heads
            self._link(tails, term_heads)
            tails = term_tails
        return heads, tails

    def term(self, term: Term) -> tuple[list[str], list[str]]:
        """Draw one term; its first and last nodes."""
        if isinstance(term, TaskTerm):
            name = term.node_name or term.name
            self.nodes[name] = None
            return [name], [name]
        if isinstance(term, SwitchTerm):
            branches = [case.branch for case in term.cases]
            if term.default is not None:
                branches.append(term.default)
            ends = [self.pipeline(branch) for branch in branches]
            return _joined(head for heads, _ in ends for head in heads), _joined(
                tail for _, tails in ends for tail in tails
            )
        body: Pipeline | None = getattr(term, "body", None)  # repeat, foreach, until
        return self.pipeline(body) if body is not None else ([], [])

    def _link(self, sources: list[str], targets: list[str]) -> None:
        for source in sources:
            for target in targets:
                if source != target:
                    self.edges[(source, target)] = None


def _joined(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
