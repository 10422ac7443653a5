"""FlowSource and load_resolver: a job's flow from its flow.yaml, or by name from a resolver."""

from __future__ import annotations

import dataclasses
import hashlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoco.core.models import Flow, Task

from pyoco_server import _workflow_test_tasks
from pyoco_server.domain.errors import CallableNotAllowed, FlowNotFound, InvalidWorkflow
from pyoco_server.domain.records import Job
from pyoco_server.domain.trust import TaskPolicy
from pyoco_worker import flows
from pyoco_worker.flows import FlowSource, ResolverError, load_resolver
from tests.support import tasks as test_tasks
from tests.support.flows import FLOW_YAML

RESOLVER_SOURCE = textwrap.dedent(
    """\
    from pyoco.core.models import Flow, Task

    from pyoco_server import _workflow_test_tasks


    def resolve(name):
        if name != "hello":
            raise KeyError(name)
        return Flow(name=name) >> Task(func=_workflow_test_tasks.add_one, name="add_one")


    not_callable = 42
    """
)


def job(yaml: str | bytes | None = None, flow_name: str = "main") -> Job:
    """A job for `flow_name`, carrying `yaml` (and its digest) when given."""
    raw = yaml.encode() if isinstance(yaml, str) else yaml
    return Job(
        run_id="r1",
        flow_name=flow_name,
        tag="default",
        tags=("default",),
        params={"x": 1},
        submitted_at=1.0,
        workflow_yaml=raw.decode() if raw is not None else None,
        workflow_yaml_sha256=hashlib.sha256(raw).hexdigest() if raw is not None else None,
        workflow_yaml_bytes=len(raw) if raw is not None else None,
    )


UNKNOWN_MODULE = TaskPolicy(modules=("no_such_module_for_tests", "tests.support.tasks"))
"""Allows the modules these tests name, so the loading itself is what they exercise."""


def build(source: FlowSource, for_job: Job) -> Flow:
    """The pyoco flow `source` builds for `for_job`."""
    return source.build(for_job).flow


def tasks_of(flow: Flow) -> dict[str, Task]:
    return {task.name: task for task in flow.tasks}


def flow_not_found(source: FlowSource, for_job: Job) -> FlowNotFound:
    with pytest.raises(FlowNotFound) as info:
        source.build(for_job)
    return info.value


@pytest.fixture
def resolver_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`resolver_for_tests.py` in tmp_path, importable by module name for this test only."""
    path = tmp_path / "resolver_for_tests.py"
    path.write_text(RESOLVER_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield path
    for name in ("resolver_for_tests", "pyoco_worker_resolver_resolver_for_tests"):
        sys.modules.pop(name, None)


def test_seed_yaml_builds_a_pyoco_flow() -> None:
    flow = build(FlowSource(), job(FLOW_YAML))

    assert isinstance(flow, Flow)
    assert flow.name == "main"
    tasks = tasks_of(flow)
    assert set(tasks) == {"add_one", "to_text"}
    assert tasks["add_one"].func is _workflow_test_tasks.add_one
    assert tasks["to_text"].func is _workflow_test_tasks.to_text
    assert [dependency.name for dependency in tasks["to_text"].dependencies] == ["add_one"]


def test_every_build_gets_fresh_task_objects() -> None:
    source = FlowSource()

    first = tasks_of(build(source, job(FLOW_YAML)))
    second = tasks_of(build(source, job(FLOW_YAML)))

    for name in ("add_one", "to_text"):
        assert first[name] is not second[name]
        assert first[name].dependencies is not second[name].dependencies
    assert [task.name for task in first["to_text"].dependencies] == ["add_one"]
    assert next(iter(first["to_text"].dependencies)) is first["add_one"]


def test_loaded_tasks_are_cached_until_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    yaml = "flow:\n  graph: a\ntasks:\n  a:\n    callable: tests.support.tasks:echo\n"
    source = FlowSource(policy=UNKNOWN_MODULE)
    original = test_tasks.echo
    build(source, job(yaml))

    monkeypatch.setattr(test_tasks, "echo", test_tasks.non_json)
    cached = tasks_of(build(source, job(yaml)))
    source.forget()
    reloaded = tasks_of(build(source, job(yaml)))

    assert cached["a"].func is original
    assert reloaded["a"].func is test_tasks.non_json


def test_a_cached_flow_is_still_refused_where_a_job_narrows_the_allowlist() -> None:
    """The cache key holds what limits the tasks: a hit never skips the allowlist check."""
    yaml = "flow:\n  graph: a\ntasks:\n  a:\n    callable: tests.support.tasks:echo\n"
    source = FlowSource(policy=UNKNOWN_MODULE)
    build(source, job(yaml))  # cached, allowed

    narrowed = dataclasses.replace(job(yaml), task_modules=("no_such_module_for_tests",))
    with pytest.raises(CallableNotAllowed):
        build(source, narrowed)
    assert tasks_of(build(source, job(yaml)))["a"].func is test_tasks.echo


def test_the_flow_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flows, "_CACHE_SIZE", 3)
    source = FlowSource(policy=UNKNOWN_MODULE)
    for n in range(10):
        yaml = f"flow:\n  graph: a{n}\ntasks:\n  a{n}:\n    callable: tests.support.tasks:echo\n"
        build(source, job(yaml))
    assert len(source._templates) == 3


def test_unimportable_callable_is_flow_not_found_with_the_import_error() -> None:
    yaml = "flow:\n  graph: a\ntasks:\n  a:\n    callable: no_such_module_for_tests:f\n"

    error = flow_not_found(FlowSource(policy=UNKNOWN_MODULE), job(yaml, flow_name="etl"))

    assert error.flow_name == "etl"
    assert "tasks.a: cannot import no_such_module_for_tests" in error.detail
    assert "No module named 'no_such_module_for_tests'" in error.detail


def test_missing_function_is_flow_not_found_with_the_attribute_error() -> None:
    yaml = "flow:\n  graph: a\ntasks:\n  a:\n    callable: tests.support.tasks:nope\n"

    error = flow_not_found(FlowSource(policy=UNKNOWN_MODULE), job(yaml))

    assert "tasks.a: tests.support.tasks has no attribute 'nope'" in error.detail


def test_use_of_an_unimportable_task_reports_the_import_error() -> None:
    yaml = (
        "flow:\n  graph: b\ntasks:\n"
        "  a:\n    callable: no_such_module_for_tests:f\n"
        "  b:\n    use: a\n"
    )

    error = flow_not_found(FlowSource(policy=UNKNOWN_MODULE), job(yaml))

    assert "No module named 'no_such_module_for_tests'" in error.detail


def test_use_of_an_undeclared_task_is_flow_not_found() -> None:
    yaml = "flow:\n  graph: b\ntasks:\n  b:\n    use: nowhere\n"

    # A `use:` of no task of the file names a plugin task, which only allow-all lets through.
    error = flow_not_found(FlowSource(policy=TaskPolicy(allow_all=True)), job(yaml))

    assert "uses unknown task 'nowhere'" in error.detail


def test_graph_naming_an_undeclared_task_is_an_invalid_workflow() -> None:
    # The gateway refuses such a file (422); a job that reached a worker another way fails.
    yaml = FLOW_YAML.decode().replace("add_one >> to_text", "add_one >> to_text >> publish")

    with pytest.raises(InvalidWorkflow) as info:
        FlowSource().build(job(yaml))

    assert info.value.reason == "undeclared_task"
    assert "['publish']" in str(info.value)


def test_use_and_pipes_build() -> None:
    yaml = FLOW_YAML.decode().replace("add_one >> to_text", "add_one >> pipe(tail)") + (
        "  again:\n    use: to_text\npipes:\n  tail: again\n"
    )

    tasks = tasks_of(build(FlowSource(), job(yaml)))

    assert set(tasks) == {"add_one", "again"}
    assert tasks["again"].func is _workflow_test_tasks.to_text


def test_no_yaml_and_no_resolver_is_flow_not_found_with_a_hint() -> None:
    error = flow_not_found(FlowSource(), job(flow_name="nightly"))

    assert error.flow_name == "nightly"
    assert "--flow-resolver" in error.detail
    assert "POST /runs/yaml" in error.detail


def test_yaml_wins_over_the_resolver() -> None:
    def resolver(name: str) -> Flow:
        raise AssertionError(f"the resolver was asked for {name}")

    flow = build(FlowSource(resolver), job(FLOW_YAML))

    assert set(tasks_of(flow)) == {"add_one", "to_text"}


def test_resolver_flow_is_returned(resolver_module: Path) -> None:
    resolver = load_resolver("resolver_for_tests:resolve")

    flow = build(FlowSource(resolver), job(flow_name="hello"))

    assert flow.name == "hello"
    assert set(tasks_of(flow)) == {"add_one"}


def test_resolver_from_a_file_path(resolver_module: Path) -> None:
    resolver = load_resolver(f"{resolver_module}:resolve")

    assert resolver("hello").name == "hello"


def test_resolver_key_error_is_flow_not_found(resolver_module: Path) -> None:
    source = FlowSource(load_resolver("resolver_for_tests:resolve"))

    error = flow_not_found(source, job(flow_name="unknown"))

    assert error.flow_name == "unknown"
    assert "does not know it" in error.detail
    assert "'unknown'" in error.detail


def test_resolver_returning_something_else_is_flow_not_found() -> None:
    source = FlowSource(lambda name: {"graph": name})  # type: ignore[arg-type, return-value]

    error = flow_not_found(source, job(flow_name="main"))

    assert "returned dict, not a pyoco Flow" in error.detail


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("no_colon", "must look like 'module:function'"),
        (":resolve", "must look like 'module:function'"),
        ("resolver_for_tests:", "must look like 'module:function'"),
        ("no_such_module_for_tests:resolve", "cannot import 'no_such_module_for_tests'"),
        ("resolver_for_tests:missing", "has no attribute 'missing'"),
        ("resolver_for_tests:not_callable", "is not callable"),
        ("does/not/exist.py:resolve", "no such file 'does/not/exist.py'"),
    ],
)
def test_bad_resolver_specs_raise_resolver_error(
    spec: str, why: str, resolver_module: Path
) -> None:
    with pytest.raises(ResolverError, match="--flow-resolver") as info:
        load_resolver(spec)

    assert why in str(info.value)


@pytest.mark.parametrize(
    "source",
    ["def resolve(:\n", "raise RuntimeError('broken at import')\n", "import no_such_module_q\n"],
    ids=["syntax-error", "raises", "import-error"],
)
def test_resolver_file_that_fails_to_import_raises_resolver_error(
    source: str, tmp_path: Path
) -> None:
    path = tmp_path / "broken_resolver.py"
    path.write_text(source)

    try:
        with pytest.raises(ResolverError, match="broken_resolver"):
            load_resolver(f"{path}:resolve")
    finally:
        sys.modules.pop("pyoco_worker_resolver_broken_resolver", None)


def test_resolver_module_with_a_syntax_error_raises_resolver_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_resolver_module.py").write_text("def resolve(:\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(ResolverError, match="broken_resolver_module"):
        load_resolver("broken_resolver_module:resolve")
