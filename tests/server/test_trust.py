"""What may run (domain/trust.py): the rules a flow.yaml's callables must pass before import."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyoco_server.domain.errors import SettingsError
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.trust import (
    DEMO_TASKS,
    TaskPolicy,
    _plugin_refusal,
    flow_refusals,
    is_never_allowed,
)
from pyoco_server.domain.workflow import TaskSpec, Workflow, parse_workflow

NEVER = [
    "subprocess:getoutput",
    "os:system",
    "timeit:timeit",
    "runpy:run_path",
    "builtins:eval",
    "importlib:import_module",
    "shutil:rmtree",
    "pickle:loads",
    "ctypes:CDLL",
    "sys:exit",
    "posix:system",
    "os.path:join",
    "multiprocessing:Process",
    "pyoco_server.local.up:Stack",
    "pyoco_worker.cli:main",
    "pyoco.cli.main:main",
    "nats:connect",
    "_thread:start_new_thread",
]


def flow(tasks: dict[str, str]) -> Workflow:
    """A parsed flow.yaml of `tasks` (name: `module:function`, or `use:name`), in one chain."""
    lines = ["version: 1", "flow:", f"  graph: {' >> '.join(tasks)}", "tasks:"]
    for name, entry in tasks.items():
        kind, _, value = entry.partition(":")
        lines.append(
            f"  {name}: {{{f'use: {value}' if kind == 'use' else f'callable: {entry!r}'}}}"
        )
    return parse_workflow(("\n".join(lines) + "\n").encode())


def one_by_one(tasks: dict[str, TaskSpec], policy: TaskPolicy, **options: Any) -> list[str]:
    """What `flow_refusals` must say: each task's refusal, in the file's order."""
    found = []
    for name, task in tasks.items():
        if task.callable is not None:
            why = policy.refusal(task.callable, **options)
        elif task.use in tasks or policy.allow_all:
            why = None
        else:
            why = _plugin_refusal(task.use)
        if why is not None:
            found.append(f"tasks.{name}: {why}")
    return found


@pytest.mark.parametrize("path", NEVER)
def test_the_standard_library_and_our_own_packages_never_run(path: str) -> None:
    for policy in (TaskPolicy(), TaskPolicy(allow_all=True), TaskPolicy(modules=("mytasks",))):
        refusal = policy.refusal(path, wheel_modules={path.split(":")[0].split(".")[0]})
        assert refusal is not None, (policy, path)
        assert "never" in refusal


def test_the_demo_tasks_always_run() -> None:
    for path in DEMO_TASKS:
        assert TaskPolicy().refusal(path) is None
        assert TaskPolicy().refusal(path, narrowed=()) is None
    other = "pyoco_server._workflow_test_tasks:other"
    assert TaskPolicy().refusal(other) is not None


def test_listed_modules_and_their_submodules_run() -> None:
    policy = TaskPolicy(modules=("mytasks", "company.flows"))
    assert policy.refusal("mytasks:f") is None
    assert policy.refusal("mytasks.sub:f") is None
    assert policy.refusal("company.flows.etl:load") is None
    assert policy.refusal("company:f") is not None
    assert policy.refusal("mytasksx:f") is not None


def test_modules_of_bound_wheels_run() -> None:
    assert TaskPolicy().refusal("my_ext.tasks:shout", wheel_modules={"my_ext"}) is None
    assert TaskPolicy().refusal("my_ext:shout", wheel_modules={"other"}) is not None


def test_anything_else_is_refused_with_a_way_out() -> None:
    refusal = TaskPolicy().refusal("mytasks:f")
    assert refusal is not None
    assert "PYOCO_TASK_MODULES" in refusal
    assert "wheel-upload" in refusal


def test_allow_all_is_an_explicit_choice() -> None:
    assert TaskPolicy(allow_all=True).refusal("anything.at_all:f") is None
    assert TaskPolicy(allow_all=False).refusal("anything.at_all:f") is not None


def test_a_key_narrows_what_its_runs_may_use() -> None:
    policy = TaskPolicy(modules=("mytasks", "others"), allow_all=True)
    assert policy.refusal("mytasks:f", narrowed=("mytasks",)) is None
    refusal = policy.refusal("others:f", narrowed=("mytasks",))
    assert refusal is not None
    assert "API key" in refusal
    assert policy.refusal("my_ext:f", wheel_modules={"my_ext"}, narrowed=("mytasks",)) is not None


def test_an_object_must_be_defined_in_an_allowed_module() -> None:
    policy = TaskPolicy(modules=("mytasks",))
    assert policy.defined_in_allowed_module("mytasks", "mytasks:f")
    assert policy.defined_in_allowed_module("mytasks.helpers", "mytasks:f")
    assert not policy.defined_in_allowed_module("posix", "mytasks:system")  # os.system
    assert not policy.defined_in_allowed_module("subprocess", "mytasks:getoutput")
    assert not policy.defined_in_allowed_module("elsewhere", "mytasks:f")
    assert TaskPolicy(allow_all=True).defined_in_allowed_module("elsewhere", "mytasks:f")
    assert not TaskPolicy(allow_all=True).defined_in_allowed_module("subprocess", "x:f")


def test_refusals_name_each_task_and_allow_aliases() -> None:
    workflow = flow(
        {
            "ok": "pyoco_server._workflow_test_tasks:add_one",
            "alias": "use:ok",
            "shell": "subprocess:getoutput",
            "plugin": "use:some_plugin_task",
        }
    )
    found = flow_refusals(workflow, TaskPolicy())
    assert len(found) == 2
    assert found[0].startswith("tasks.shell:")
    assert found[1].startswith("tasks.plugin:")
    assert "PYOCO_TASK_ALLOW_ALL" in found[1]
    assert flow_refusals(workflow, TaskPolicy(allow_all=True)) == [found[0]]


def test_never_allowed_covers_private_and_builtin_modules() -> None:
    assert is_never_allowed("_io")
    assert is_never_allowed("builtins")
    assert is_never_allowed("pyoco_server")
    assert not is_never_allowed("my_ext")


@pytest.mark.parametrize(
    "value", ["os", "subprocess,mytasks", "pyoco_worker.flows", "not a module"]
)
def test_the_operator_cannot_list_never_allowed_modules(value: str) -> None:
    with pytest.raises(SettingsError, match="PYOCO_TASK_MODULES"):
        Settings.from_env({"PYOCO_TASK_MODULES": value, "PYOCO_LOAD_DOTENV": "0"})


def test_pyoco_variables_can_never_be_exposed_to_runs() -> None:
    with pytest.raises(SettingsError, match="PYOCO_TASK_ENV"):
        Settings.from_env(
            {"PYOCO_TASK_ENV": "API_TOKEN,PYOCO_AUTH_PEPPER", "PYOCO_LOAD_DOTENV": "0"}
        )
    settings = Settings.from_env({"PYOCO_TASK_ENV": "API_TOKEN, REGION", "PYOCO_LOAD_DOTENV": "0"})
    assert settings.task_env == ("API_TOKEN", "REGION")


CALLABLES = [
    "pyoco_server._workflow_test_tasks:add_one",
    "pyoco_server._workflow_test_tasks:other",
    "subprocess:getoutput",
    "mytasks:f",
    "mytasks:g",
    "mytasks.sub:f",
    "wheelmod.x:f",
    "elsewhere:f",
    "_private:f",
]


@settings(max_examples=200, deadline=None)
@given(
    chosen=st.lists(st.sampled_from([*CALLABLES, "use:ok", "use:plugin"]), max_size=12),
    allow_all=st.booleans(),
    narrowed=st.one_of(st.none(), st.sets(st.sampled_from(["mytasks", "wheelmod", "x"]))),
)
def test_a_flow_is_refused_as_its_tasks_are_one_by_one_judging_each_module_once(
    chosen: list[str], allow_all: bool, narrowed: set[str] | None
) -> None:
    """`flow_refusals` judges the file's modules (`Workflow.by_module`), each once, and says
    what each task's own refusal would."""
    workflow = flow({"ok": "mytasks:f", **{f"t{n}": entry for n, entry in enumerate(chosen)}})
    policy = TaskPolicy(modules=("mytasks",), allow_all=allow_all)
    judged: list[str] = []

    class Counting(TaskPolicy):
        def module_refusal(self, module: str, *args: object) -> str | None:
            judged.append(module)
            return super().module_refusal(module, *args)  # type: ignore[arg-type]

    counting = Counting(modules=policy.modules, allow_all=allow_all)
    options: dict[str, Any] = {"wheel_modules": {"wheelmod"}, "narrowed": narrowed}
    assert flow_refusals(workflow, counting, **options) == one_by_one(
        dict(workflow.tasks), policy, **options
    )
    assert len(judged) == len(set(judged))
