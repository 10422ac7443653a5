"""Loading a flow.yaml's tasks under the task policy (pyoco_worker/tasks.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pyoco_server.domain.errors import CallableNotAllowed, FlowNotFound
from pyoco_server.domain.trust import TaskPolicy
from pyoco_server.domain.workflow import parse_workflow
from pyoco_worker.tasks import load_tasks


def workflow(*tasks: tuple[str, str]) -> bytes:
    lines = ["version: 1", "flow:", f"  graph: {' >> '.join(name for name, _ in tasks)}", "tasks:"]
    for name, target in tasks:
        key = "use" if ":" not in target else "callable"
        lines.append(f'  {name}: {{{key}: "{target}"}}')
    return ("\n".join(lines) + "\n").encode()


def load(text: bytes, policy: TaskPolicy, **kwargs: object) -> dict[str, object]:
    return load_tasks("main", parse_workflow(text), policy, **kwargs)  # type: ignore[arg-type]


def test_allowed_callables_load_and_aliases_share_them() -> None:
    tasks = load(
        workflow(("add_one", "pyoco_server._workflow_test_tasks:add_one"), ("again", "add_one")),
        TaskPolicy(),
    )
    assert set(tasks) == {"add_one", "again"}
    assert tasks["again"].func is tasks["add_one"].func  # type: ignore[attr-defined]


def test_a_refused_module_is_never_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "imported"
    monkeypatch.setenv("PYOCO_TEST_IMPORT_MARKER", str(marker))
    sys.modules.pop("tests.support.shady", None)
    with pytest.raises(CallableNotAllowed, match="PYOCO_TASK_MODULES"):
        load(workflow(("t", "tests.support.shady:honest")), TaskPolicy())
    assert not marker.exists()
    assert "tests.support.shady" not in sys.modules


def test_a_callable_reached_through_an_allowed_module_must_be_defined_there() -> None:
    policy = TaskPolicy(modules=("tests.support.shady",))
    assert load(workflow(("t", "tests.support.shady:honest")), policy)
    with pytest.raises(CallableNotAllowed, match="subprocess"):
        load(workflow(("t", "tests.support.shady:getoutput")), policy)


@pytest.mark.parametrize(
    "target",
    ["subprocess:getoutput", "os:system", "timeit:timeit", "runpy:run_path", "builtins:eval"],
)
def test_the_standard_library_is_refused_even_when_all_is_allowed(target: str) -> None:
    with pytest.raises(CallableNotAllowed):
        load(workflow(("t", target)), TaskPolicy(allow_all=True))


def test_a_key_narrowing_is_applied_in_the_run_process_too() -> None:
    policy = TaskPolicy(modules=("tests.support.tasks", "tests.support.shady"))
    with pytest.raises(CallableNotAllowed, match="API key"):
        load(workflow(("t", "tests.support.tasks:echo")), policy, narrowed=("tests.support.shady",))


def test_an_allowed_module_that_does_not_import_is_reported() -> None:
    with pytest.raises(FlowNotFound, match="cannot import"):
        load(
            workflow(("t", "no_such_module_anywhere:f")),
            TaskPolicy(modules=("no_such_module_anywhere",)),
        )
