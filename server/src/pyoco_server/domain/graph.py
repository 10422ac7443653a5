"""flow.graph: pyoco's graph language with parallel groups, read into a plan of steps.

A graph of tasks, named nodes (`node: task`), pipe references (`pipe(NAME)`), `>>`, and the
groups of pyoco's Python DSL (`&` all of, `|` any of, parentheses, nesting) is read here into
`Step`s: each task with the steps it runs after. Operators bind as in Python, `>>` tighter than
`&`, `&` tighter than `|`::

    graph   := any
    any     := all ('|' all)*
    all     := chain ('&' chain)*
    chain   := primary ('>>' primary)*
    primary := '(' any ')' | 'pipe' '(' NAME ')' | [NODE ':'] TASK

`x >> g` makes every first task of `g` run after the last tasks of `x`: after all of them, or,
when `x` is an `|` group, as soon as one of them has succeeded (pyoco's `trigger_policy="ANY"`,
as `(x | y) >> z` sets it). A pipe is a named sub-graph, a unit as if in parentheses.

A graph with `switch`, `repeat`, `foreach` or `until` is pyoco's alone: pyoco runs such a
graph one task at a time in the order written and its Python DSL drops groups there, so it is
read by pyoco's parser, without groups, and compiled once with stand-in tasks to find its
mistakes and the params its expressions read (`GraphPlan.steps` is None; the worker builds it
with pyoco). Every problem is an `InvalidWorkflow` (`invalid_graph`, `too_complex`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping

from pyoco.core.models import Task
from pyoco.dsl.graph import build_flow_from_graph, parse_graph, resolve_pipe_refs
from pyoco.dsl.graph import validate_graph_terms as _validate_terms
from pyoco.dsl.graph_terms import Pipeline, SwitchTerm, TaskTerm
from pyoco.dsl.nodes import ForEachNode, RepeatNode, SubFlowNode, SwitchNode, UntilNode

from pyoco_server.domain.errors import InvalidWorkflow
from pyoco_server.domain.graphsyntax import (
    MAX_NESTING,
    MAX_STEPS,
    Chain,
    ControlFlow,
    Expr,
    Node,
    read_graph,
    unparse,
)

_PARAM = re.compile(r"\$ctx\.params\.([A-Za-z_]\w*)")
_GROUP_CHARACTER = re.compile(r"^Unexpected character '[&|]'")

MAX_DEPENDENCIES = 100_000
"""How many dependencies the steps of a graph may have in all (a group of m tasks followed by
a group of n makes m * n)."""

__all__ = ["MAX_DEPENDENCIES", "MAX_NESTING", "MAX_STEPS", "GraphPlan", "Step", "plan_graph"]


@dataclasses.dataclass(frozen=True, slots=True)
class Step:
    """One task of a graph: the `tasks:` entry `task`, run as `name` after the steps `after`.

    It starts once every step of `after` has succeeded or, when `any_of`, once one has.
    """

    name: str
    task: str
    after: tuple[str, ...] = ()
    any_of: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class GraphPlan:
    """What a graph runs."""

    steps: tuple[Step, ...] | None
    """The steps in the order written; None for a graph with control flow (pyoco builds it)."""
    tasks: tuple[str, ...]
    """The `tasks:` entries it names, in the order written."""
    params: tuple[str, ...] = ()
    """The params its switch/repeat/foreach/until expressions read."""


def plan_graph(graph: str, pipes: Mapping[str, str]) -> GraphPlan:
    """Read `flow.graph` (with the file's `pipes:`) into a plan.

    Raises:
        InvalidWorkflow: `invalid_graph` (with where and why) or `too_complex`.
    """
    try:
        expr = read_graph(graph, pipes)
    except ControlFlow:
        return _pyoco_plan(graph, pipes)
    wiring = _Wiring()
    wiring.ends(expr)
    steps = tuple(wiring.steps())
    return GraphPlan(steps, tuple(dict.fromkeys(step.task for step in steps)))


@dataclasses.dataclass(frozen=True, slots=True)
class _Ends:
    """The first and last steps of a part of the graph, and how its last ones are joined."""

    heads: tuple[str, ...]
    tails: tuple[str, ...]
    join: str
    """"all", "any", or "mixed" (tails that no single trigger policy can wait for)."""


@dataclasses.dataclass(slots=True)
class _Draft:
    task: str
    after: list[str] = dataclasses.field(default_factory=list)
    any_of: bool = False


class _Wiring:
    """Turns a read graph into steps, refusing a step written twice and mixed joins."""

    def __init__(self) -> None:
        self._drafts: dict[str, _Draft] = {}
        self._dependencies = 0

    def steps(self) -> Iterator[Step]:
        for name, draft in self._drafts.items():
            yield Step(name, draft.task, tuple(draft.after), draft.any_of)

    def ends(self, expr: Expr) -> _Ends:
        if isinstance(expr, Node):
            self._add(expr)
            return _Ends((expr.name,), (expr.name,), "all")
        parts = [self.ends(part) for part in expr.parts]
        if isinstance(expr, Chain):
            for source, before, after in zip(expr.parts, parts, parts[1:], strict=False):
                self._link(source, before, after)
            return _Ends(parts[0].heads, parts[-1].tails, parts[-1].join)
        kind = "any" if expr.any_of else "all"
        mixed = any(len(part.tails) > 1 and part.join != kind for part in parts)
        return _Ends(
            tuple(name for part in parts for name in part.heads),
            tuple(name for part in parts for name in part.tails),
            "mixed" if mixed else kind,
        )

    def _add(self, node: Node) -> None:
        if node.name not in self._drafts:
            self._drafts[node.name] = _Draft(node.task)
            return
        what = f"task {node.name!r}" if node.name == node.task else f"node {node.name!r}"
        raise InvalidWorkflow(
            "invalid_graph",
            f"flow.graph: {what} appears twice (position {node.pos}{node.where}); a step runs "
            f"once per run: to run {node.task!r} again, give it a node name of its own, e.g. "
            f"'{node.task}_again: {node.task}'",
        )

    def _link(self, source: Expr, before: _Ends, after: _Ends) -> None:
        if before.join == "mixed":
            raise InvalidWorkflow(
                "invalid_graph",
                f"flow.graph: '{_shown(source)}' is followed by '>>', but a task can wait for "
                "all of the tasks before it ('&') or for any one of them ('|'), not for a mix; "
                "end each side of the group in a single task (add a task after the inner group)",
            )
        self._dependencies += len(before.tails) * len(after.heads)
        if self._dependencies > MAX_DEPENDENCIES:
            raise InvalidWorkflow(
                "too_complex",
                f"flow.graph has more than {MAX_DEPENDENCIES} dependencies ('{_shown(source)}' "
                f"is followed by {len(after.heads)} tasks that each wait for its "
                f"{len(before.tails)}); put a single task between large groups",
            )
        any_of = before.join == "any" and len(before.tails) > 1
        for head in after.heads:
            draft = self._drafts[head]
            draft.after.extend(before.tails)
            draft.any_of = any_of


def _shown(expr: Expr, limit: int = 60) -> str:
    text = unparse(expr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _pyoco_plan(graph: str, pipes: Mapping[str, str]) -> GraphPlan:
    try:
        pipeline = resolve_pipe_refs(parse_graph(graph), dict(pipes))
        report = _validate_terms(pipeline)
        if report.errors:
            raise ValueError("; ".join(report.errors))
        tasks = tuple(dict.fromkeys(_task_names(pipeline)))
        stand_ins = {name: Task(func=_stand_in, name=name) for name in tasks}
        flow = build_flow_from_graph(graph=graph, tasks=stand_ins, pipes=dict(pipes))
    except RecursionError:
        raise InvalidWorkflow("too_complex", "flow.graph is nested too deeply") from None
    except ValueError as exc:
        raise InvalidWorkflow("invalid_graph", f"flow.graph: {_worded(exc)}") from None
    params = tuple(dict.fromkeys(_param_reads(flow.build_program())))
    return GraphPlan(None, tasks, params)


def _stand_in() -> None:
    """The function of every task of a graph compiled only to check it (never called)."""


def _worded(exc: ValueError) -> str:
    if _GROUP_CHARACTER.match(str(exc)):
        return (
            f"{exc} '&' and '|' cannot be used in a graph with switch, repeat, foreach or "
            "until: pyoco runs such a graph one task at a time, in the order written; chain "
            "those tasks with '>>' instead"
        )
    return str(exc)


def _task_names(pipeline: Pipeline) -> Iterator[str]:
    for term in pipeline.terms:
        if isinstance(term, TaskTerm):
            yield term.name
        elif isinstance(term, SwitchTerm):
            for case in term.cases:
                yield from _task_names(case.branch)
            if term.default is not None:
                yield from _task_names(term.default)
        else:  # repeat, foreach, until (pipe references are resolved)
            yield from _task_names(term.body)


def _param_reads(node: object) -> Iterator[str]:
    """The params the expressions of a compiled graph read (`$ctx.params.NAME`)."""
    if isinstance(node, SubFlowNode):
        for step in node.steps:
            yield from _param_reads(step)
    elif isinstance(node, SwitchNode):
        yield from _PARAM.findall(node.expression.source)
        for case in node.cases:
            yield from _param_reads(case.target)
    elif isinstance(node, (RepeatNode, ForEachNode, UntilNode)):
        yield from _PARAM.findall(_expression_of(node))
        yield from _param_reads(node.body)


def _expression_of(node: RepeatNode | ForEachNode | UntilNode) -> str:
    if isinstance(node, RepeatNode):
        value: object = node.count  # a number, or an expression
    elif isinstance(node, ForEachNode):
        value = node.source
    else:
        value = node.condition
    return str(getattr(value, "source", ""))
