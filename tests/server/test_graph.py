"""plan_graph: chains, `&` and `|` groups, parentheses, pipes and named nodes into steps; every
mistake an `invalid_graph` (or `too_complex`) that says where and what to do."""

from __future__ import annotations

import pytest

from pyoco_server.domain.errors import InvalidWorkflow
from pyoco_server.domain.graph import (
    MAX_DEPENDENCIES,
    MAX_NESTING,
    MAX_STEPS,
    GraphPlan,
    Step,
    plan_graph,
)


def wiring(graph: str, **pipes: str) -> dict[str, tuple[tuple[str, ...], bool]]:
    """Each step's name: (what it runs after, whether after any one of them)."""
    steps = plan_graph(graph, pipes).steps
    assert steps is not None
    return {step.name: (step.after, step.any_of) for step in steps}


def refused(graph: str, **pipes: str) -> InvalidWorkflow:
    with pytest.raises(InvalidWorkflow) as info:
        plan_graph(graph, pipes)
    return info.value


def test_a_chain_runs_each_task_after_the_one_before() -> None:
    plan = plan_graph("a >> b >> c", {})

    assert plan == GraphPlan(
        steps=(Step("a", "a"), Step("b", "b", ("a",)), Step("c", "c", ("b",))),
        tasks=("a", "b", "c"),
    )


def test_fan_out_and_fan_in_with_all_of() -> None:
    assert wiring("a >> (b & c) >> d") == {
        "a": ((), False),
        "b": (("a",), False),
        "c": (("a",), False),
        "d": (("b", "c"), False),
    }


def test_any_of_makes_the_next_task_start_after_the_first() -> None:
    assert wiring("a >> (b | c) >> d") == {
        "a": ((), False),
        "b": (("a",), False),
        "c": (("a",), False),
        "d": (("b", "c"), True),
    }


def test_branches_may_be_chains_and_groups_may_nest() -> None:
    assert wiring("a >> ((b >> c) & (d & e) & f) >> g") == {
        "a": ((), False),
        "b": (("a",), False),
        "c": (("b",), False),
        "d": (("a",), False),
        "e": (("a",), False),
        "f": (("a",), False),
        "g": (("c", "d", "e", "f"), False),
    }


def test_operators_bind_as_in_python() -> None:
    # `>>` before `&` before `|`: two chains side by side, then two alternatives.
    assert wiring("a >> b & c >> d") == {
        "a": ((), False),
        "b": (("a",), False),
        "c": ((), False),
        "d": (("c",), False),
    }
    assert "'(a & b) | c' is followed by '>>'" in str(refused("(a & b | c) >> d"))


def test_a_group_may_follow_a_group() -> None:
    assert wiring("(a | b) >> (c & d) >> e") == {
        "a": ((), False),
        "b": ((), False),
        "c": (("a", "b"), True),
        "d": (("a", "b"), True),
        "e": (("c", "d"), False),
    }


def test_groups_of_groups_of_one_kind_join_alike() -> None:
    assert wiring("((a | b) | (c >> d)) >> e")["e"] == (("a", "b", "d"), True)
    assert wiring("((a & b) & c) >> e")["e"] == (("a", "b", "c"), False)


def test_independent_tasks_start_together() -> None:
    assert wiring("a & b & c") == {"a": ((), False), "b": ((), False), "c": ((), False)}


def test_named_nodes_run_one_task_twice() -> None:
    plan = plan_graph("prep >> (left: work & right: work) >> done", {})

    assert plan.steps is not None
    assert [(step.name, step.task) for step in plan.steps] == [
        ("prep", "prep"),
        ("left", "work"),
        ("right", "work"),
        ("done", "done"),
    ]
    assert plan.tasks == ("prep", "work", "done")
    assert plan.steps[-1].after == ("left", "right")


def test_a_pipe_is_a_unit_as_if_in_parentheses() -> None:
    assert wiring("a >> pipe(fan) >> d", fan="b & c")["d"] == (("b", "c"), False)
    assert wiring('pipe("tail")', tail="a >> pipe(end)", end="b | c") == {
        "a": ((), False),
        "b": (("a",), False),
        "c": (("a",), False),
    }


def test_comments_and_line_breaks_are_ignored() -> None:
    graph = "# fan out & in\na\n  >> (b   # one\n      & c)  # | two\n  >> d\n"

    assert wiring(graph)["d"] == (("b", "c"), False)


def test_mixed_groups_cannot_be_followed() -> None:
    error = refused("a >> ((b & c) | d) >> e")

    assert error.reason == "invalid_graph"
    assert "'(b & c) | d' is followed by '>>'" in str(error)
    assert "not for a mix" in str(error)
    assert "add a task after the inner group" in str(error)


def test_a_mixed_group_at_the_end_is_fine() -> None:
    assert set(wiring("a >> ((b & c) | d)")) == {"a", "b", "c", "d"}


def test_a_task_written_twice_is_refused_with_a_hint() -> None:
    error = refused("a >> b >> a")

    assert error.reason == "invalid_graph"
    assert "task 'a' appears twice (position 10)" in str(error)
    assert "'a_again: a'" in str(error)
    assert "node 'x' appears twice" in str(refused("x: a >> x: b"))


@pytest.mark.parametrize(
    ("graph", "why"),
    [
        ("a > b", "Unsupported operator '>' at position 2. Use '>>' only."),
        ("a >>", "expected a task name or '(' at position 4, got the end of the graph"),
        ("a >> (b & ) >> c", "expected a task name or '(' at position 10, got ')'"),
        ("a >> (b & c", "expected ')' at position 11, got the end of the graph (to close the '("),
        ("a b", "expected '>>', '&', '|' or the end of the graph at position 2, got 'b'"),
        ("a >> {b}", "at position 5, got '{'"),
        ("a && b", "expected a task name or '(' at position 3, got '&'"),
        ("a >> run(x)", "Unknown callable term 'run' at position 5"),
        ("a >> n: pipe(p)", "Named task 'n' must reference a task term"),
        ("a >> pipe(missing)", "Unknown pipe reference: missing; pipes: (none)"),
    ],
)
def test_syntax_errors_say_where(graph: str, why: str) -> None:
    error = refused(graph)

    assert error.reason == "invalid_graph"
    assert str(error).startswith("invalid workflow yaml (invalid_graph): flow.graph: ")
    assert why in str(error)


def test_errors_in_a_pipe_name_the_pipe() -> None:
    error = refused("a >> pipe(p)", p="b >>")

    assert "at position 4 in pipe 'p'" in str(error)


def test_cyclic_pipes_are_refused() -> None:
    error = refused("pipe(p)", p="a >> pipe(q)", q="pipe(p)")

    assert "Cyclic pipe reference detected: p -> q -> p" in str(error)


def test_nesting_is_bounded() -> None:
    deep = "(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1)
    fine = "(" * MAX_NESTING + "a" + ")" * MAX_NESTING

    assert refused(deep).reason == "too_complex"
    assert wiring(fine) == {"a": ((), False)}


def test_pipes_that_double_at_each_level_are_stopped_early() -> None:
    pipes = {f"p{i}": f"pipe(p{i - 1}) & pipe(p{i - 1})" for i in range(1, 40)}
    pipes["p0"] = "a"

    error = refused("pipe(p39)", **pipes)

    assert error.reason in ("invalid_graph", "too_complex")


def test_the_number_of_tasks_is_bounded() -> None:
    many = " & ".join(f"t{i}" for i in range(MAX_STEPS + 1))

    error = refused(many)

    assert error.reason == "too_complex"
    assert f"more than {MAX_STEPS} tasks" in str(error)


def test_the_number_of_dependencies_is_bounded() -> None:
    side = int(MAX_DEPENDENCIES**0.5) + 1
    left = " & ".join(f"a{i}" for i in range(side))
    right = " & ".join(f"b{i}" for i in range(side))

    error = refused(f"({left}) >> ({right})")

    assert error.reason == "too_complex"
    assert f"more than {MAX_DEPENDENCIES} dependencies ('a0 & a1 & " in str(error)
    assert "put a single task between large groups" in str(error)
    assert len(str(error)) < 300
    assert len(wiring(f"({left}) >> join >> ({right})")) == 2 * side + 1


def test_control_flow_graphs_are_read_by_pyoco() -> None:
    graph = (
        "a >> switch(on={{mode}}){ x: b; default: c } "
        ">> foreach(over={{items}}, item=it){ d } "
        ">> repeat(count=n){ e } >> until(cond={{params.done}}, max_iter=3){ f }"
    )

    plan = plan_graph(graph, {})

    assert plan == GraphPlan(None, ("a", "b", "c", "d", "e", "f"), ("mode", "items", "n", "done"))


def test_groups_are_refused_next_to_control_flow() -> None:
    error = refused("(a & b) >> repeat(count=2){ c }")

    assert error.reason == "invalid_graph"
    assert "'&' and '|' cannot be used in a graph with switch, repeat, foreach or until" in str(
        error
    )


@pytest.mark.parametrize(
    ("graph", "why"),
    [
        ("switch(on={{m}}){ x: a; x: b }", "duplicate switch case 'x'"),
        ("repeat(count=2){ n: a >> n: a }", "Duplicate node name: n"),
        ("foreach(over={{1 +}}){ a }", "Unsupported expression"),
        ("until(cond={{done}}, max_iter=0){ a }", "max_iter must be a positive integer"),
    ],
)
def test_control_flow_mistakes_are_found_at_submit(graph: str, why: str) -> None:
    error = refused(graph)

    assert error.reason == "invalid_graph"
    assert why in str(error)
