"""parse_workflow: the seed flow.yaml, and every reason a file is refused, with where and why."""

from __future__ import annotations

import hashlib

import pytest

from pyoco_server.domain.errors import InvalidWorkflow
from pyoco_server.domain.workflow import TaskSpec, parse_workflow
from tests.support.flows import FLOW_YAML

ONE_TASK = "flow:\n  graph: a\ntasks:\n  a:\n    callable: m:f\n"


def refused(raw: bytes | str) -> InvalidWorkflow:
    """The InvalidWorkflow that parsing `raw` raises."""
    data = raw.encode() if isinstance(raw, str) else raw
    with pytest.raises(InvalidWorkflow) as info:
        parse_workflow(data)
    return info.value


def test_seed_flow_parses_with_its_defaults() -> None:
    workflow = parse_workflow(FLOW_YAML)

    assert workflow.graph.strip() == "add_one >> to_text"
    assert workflow.defaults == {"x": 1}
    assert workflow.tasks == {
        "add_one": TaskSpec("pyoco_server._workflow_test_tasks:add_one", None, {}, ()),
        "to_text": TaskSpec("pyoco_server._workflow_test_tasks:to_text", None, {}, ()),
    }
    assert workflow.pipes == {}
    assert workflow.expose_env == ()
    assert workflow.text == FLOW_YAML.decode()


def test_sha256_and_size_are_over_the_raw_bytes() -> None:
    raw = FLOW_YAML.replace(b"\n", b"\r\n") + "# café ☕\r\n".encode()

    workflow = parse_workflow(raw)

    assert workflow.sha256 == hashlib.sha256(raw).hexdigest()
    assert workflow.size == len(raw)
    assert workflow.size != len(workflow.text)


def test_pipes_use_inputs_outputs_and_runtime_are_accepted() -> None:
    raw = """\
version: "1"
flow:
  graph: a >> pipe(tail)
tasks:
  a:
    callable: pkg.mod:func
    inputs: {n: 3, names: [x, y]}
    outputs: [result.a]
  b:
    use: a
pipes:
  tail: b
runtime:
  expose_env: [HOME]
"""
    workflow = parse_workflow(raw.encode())

    assert workflow.pipes == {"tail": "b"}
    assert workflow.tasks["a"] == TaskSpec(
        "pkg.mod:func", None, {"n": 3, "names": ["x", "y"]}, ("result.a",)
    )
    assert workflow.tasks["b"] == TaskSpec(None, "a", {}, ())
    assert workflow.expose_env == ("HOME",)


def test_not_utf8_says_where() -> None:
    error = refused(b"flow:\n  graph: a\n# \xff\n")

    assert error.reason == "not_utf8"
    assert "offset 19" in str(error)


def test_invalid_yaml_says_line_and_column() -> None:
    error = refused("flow:\n  graph: a\n\tdefaults: {}\n")

    assert error.reason == "invalid_yaml"
    assert "line 3, column 1" in str(error)
    assert "tab" in str(error)  # libyaml's words ("'\\t'" in PyYAML's)


def test_unclosed_flow_sequence_is_invalid_yaml() -> None:
    error = refused("flow:\n  graph: [a\n")

    assert error.reason == "invalid_yaml"
    assert "line 3" in str(error)


def test_python_tags_are_not_constructed() -> None:
    error = refused("flow:\n  graph: a\n  defaults:\n    b: !!python/object:os.system x\n")

    assert error.reason == "invalid_yaml"
    assert "python/object" in str(error)


@pytest.mark.parametrize("raw", ["", "- flow\n", "just text\n", "42\n"])
def test_root_must_be_a_mapping(raw: str) -> None:
    error = refused(raw)

    assert error.reason == "invalid_yaml_root"
    assert "must be a mapping" in str(error)


@pytest.mark.parametrize(
    ("key", "hint"),
    [("flows", "one flow per file"), ("discovery", "'discovery' is not allowed")],
)
def test_unsupported_keys_say_what_to_do_instead(key: str, hint: str) -> None:
    error = refused(f"{key}: {{}}\n{ONE_TASK}")

    assert error.reason == "unsupported_key"
    assert hint in str(error)


@pytest.mark.parametrize(
    ("raw", "where", "unknown"),
    [
        (ONE_TASK + "extra: 1\nmore: 2\n", "top-level", "'extra', 'more'"),
        ("flow:\n  graph: a\n  name: x\n", "flow", "'name'"),
        (ONE_TASK + "    retries: 3\n", "tasks.a", "'retries'"),
        (ONE_TASK + "runtime:\n  env: [A]\n", "runtime", "'env'"),
    ],
    ids=["top-level", "flow", "task", "runtime"],
)
def test_unknown_keys_are_named_with_the_allowed_ones(raw: str, where: str, unknown: str) -> None:
    error = refused(raw)

    assert error.reason == "unknown_keys"
    assert f"unknown {where} key(s) {unknown}" in str(error)
    assert "allowed:" in str(error)


@pytest.mark.parametrize("version", ["2", "true", "'one'"])
def test_unsupported_version(version: str) -> None:
    error = refused(f"version: {version}\n{ONE_TASK}")

    assert error.reason == "unsupported_version"
    assert "version must be 1" in str(error)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("tasks: {}\n", "'flow:' must be a mapping"),
        ("flow: a >> b\n", "'flow:' must be a mapping"),
        ("flow:\n  defaults: {x: 1}\n", "'flow.graph' must be a non-empty string"),
        ("flow:\n  graph: '   '\n", "'flow.graph' must be a non-empty string"),
        ("flow:\n  graph: [a, b]\n", "'flow.graph' must be a non-empty string"),
    ],
)
def test_missing_flow_graph(raw: str, why: str) -> None:
    error = refused(raw)

    assert error.reason == "missing_flow_graph"
    assert why in str(error)


@pytest.mark.parametrize(
    ("defaults", "why"),
    [
        ("{day: 2024-01-31}", "flow.defaults.day is a YAML date; quote it"),
        ("{1: one}", "flow.defaults has a non-text key 1; quote it"),
        ("{n: .nan}", "flow.defaults.n is nan, which JSON cannot carry"),
        ("{n: [1, {m: -.inf}]}", "flow.defaults.n[1].m is -inf, which JSON cannot carry"),
        ("{b: !!binary aGk=}", "flow.defaults.b is a YAML bytes"),
        ("[x, 1]", "'flow.defaults' must be a mapping"),
    ],
)
def test_invalid_defaults_say_where(defaults: str, why: str) -> None:
    error = refused(f"flow:\n  graph: a\n  defaults: {defaults}\n")

    assert error.reason == "invalid_defaults"
    assert why in str(error)


@pytest.mark.parametrize("defaults", ["[]", "false", "0"])
def test_falsy_non_mapping_defaults_are_refused(defaults: str) -> None:
    error = refused(f"flow:\n  graph: a\n  defaults: {defaults}\n")

    assert error.reason == "invalid_defaults"


@pytest.mark.parametrize(
    ("tasks", "why"),
    [
        ("tasks: [a]\n", "'tasks:' must be a mapping"),
        ("tasks:\n  a: 1\n", "tasks.a must be a mapping"),
        ("tasks:\n  a-b:\n    callable: m:f\n", "task name 'a-b' must be an identifier"),
        ("tasks:\n  a: {callable: 'm:f', use: b}\n", "needs exactly one of"),
        ("tasks:\n  a: {use: '  '}\n", "tasks.a.use must be a task name"),
        ("tasks:\n  a: {callable: 'm:f', inputs: [1]}\n", "tasks.a.inputs must be a mapping"),
        (
            "tasks:\n  a: {callable: 'm:f', inputs: {d: 2024-01-31}}\n",
            "tasks.a.inputs.d is a YAML date",
        ),
        ("tasks:\n  a: {callable: 'm:f', outputs: out}\n", "tasks.a.outputs must be a list"),
        ("tasks:\n  a: {callable: 'm:f', outputs: [1]}\n", "tasks.a.outputs must be a list"),
    ],
)
def test_invalid_task_says_which_and_why(tasks: str, why: str) -> None:
    error = refused(f"flow:\n  graph: a\n{tasks}")

    assert error.reason == "invalid_task"
    assert why in str(error)


@pytest.mark.parametrize("target", ["m.f", "'m:'", "':f'", "'m:f:g'", "'1m:f'", "3"])
def test_invalid_task_callable(target: str) -> None:
    error = refused(f"flow:\n  graph: a\ntasks:\n  a:\n    callable: {target}\n")

    assert error.reason == "invalid_task_callable"
    assert "tasks.a.callable must look like 'package.module:function'" in str(error)


def test_callable_with_a_trailing_newline_is_refused() -> None:
    error = refused('flow:\n  graph: a\ntasks:\n  a:\n    callable: "m:f\\n"\n')

    assert error.reason == "invalid_task_callable"


@pytest.mark.parametrize("pipes", ["pipes: [a]\n", "pipes:\n  p: 1\n", "pipes:\n  1: a\n"])
def test_invalid_pipes(pipes: str) -> None:
    error = refused(f"{ONE_TASK}{pipes}")

    assert error.reason == "invalid_pipes"
    assert "'pipes:' must map pipe names to graph text" in str(error)


@pytest.mark.parametrize(
    ("runtime", "why"),
    [
        ("runtime: [HOME]\n", "'runtime:' must be a mapping"),
        ("runtime:\n  expose_env: HOME\n", "'runtime.expose_env' must be a list of names"),
        ("runtime:\n  expose_env: [1]\n", "'runtime.expose_env' must be a list of names"),
    ],
)
def test_invalid_runtime(runtime: str, why: str) -> None:
    error = refused(f"{ONE_TASK}{runtime}")

    assert error.reason == "invalid_runtime"
    assert why in str(error)


@pytest.mark.parametrize(
    ("graph", "why"),
    [
        ("a > b", "Unsupported operator '>' at position 2"),
        ("a >>", "flow.graph: "),
        ("a >> pipe(missing)", "Unknown pipe reference: missing"),
    ],
    ids=["bad-operator", "dangling-shift", "unknown-pipe"],
)
def test_invalid_graph_says_why(graph: str, why: str) -> None:
    error = refused(f"flow:\n  graph: '{graph}'\n")

    assert error.reason == "invalid_graph"
    assert str(error).startswith("invalid workflow yaml (invalid_graph): flow.graph: ")
    assert why in str(error)


def test_cyclic_pipes_are_an_invalid_graph() -> None:
    error = refused("flow:\n  graph: pipe(p)\npipes:\n  p: pipe(q)\n  q: pipe(p)\n")

    assert error.reason == "invalid_graph"
    assert "Cyclic pipe reference" in str(error)


def test_yaml_alias_bomb_is_too_complex() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for name, previous in zip("bcdef", "abcde", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    raw = "\n".join(lines) + "\n"
    assert len(raw) < 1000

    error = refused(raw)

    assert error.reason == "too_complex"
    assert "more than 100000 values" in str(error)


def test_self_referencing_yaml_is_too_complex() -> None:
    assert refused("a: &a [*a]\n").reason == "too_complex"


def test_deeply_nested_yaml_is_refused() -> None:
    depth = 1000
    raw = "flow:\n  graph: a\n  defaults:\n    d: " + "[" * depth + "]" * depth + "\n"

    assert refused(raw).reason in ("too_complex", "invalid_yaml")


def test_deeply_nested_graph_is_refused() -> None:
    depth = 1000
    graph = "repeat(count=2){" * depth + "a" + "}" * depth

    assert refused(f"flow:\n  graph: '{graph}'\n").reason in ("too_complex", "invalid_graph")
