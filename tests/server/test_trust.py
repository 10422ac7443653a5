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
    flow_refusals,
    is_never_allowed,
    refusals,
)
from pyoco_server.domain.workflow import TaskSpec, parse_workflow

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


def spec(callable_: str | None = None, use: str | None = None) -> TaskSpec:
    return TaskSpec(callable=callable_, use=use, inputs={}, outputs=())


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
    tasks = {
        "ok": spec("pyoco_server._workflow_test_tasks:add_one"),
        "alias": spec(use="ok"),
        "shell": spec("subprocess:getoutput"),
        "plugin": spec(use="some_plugin_task"),
    }
    found = refusals(tasks, TaskPolicy())
    assert len(found) == 2
    assert found[0].startswith("tasks.shell:")
    assert found[1].startswith("tasks.plugin:")
    assert "PYOCO_TASK_ALLOW_ALL" in found[1]
    assert refusals(tasks, TaskPolicy(allow_all=True)) == [found[0]]


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
def test_refusals_judge_each_module_once_and_say_what_each_task_would_be_told(
    chosen: list[str], allow_all: bool, narrowed: set[str] | None
) -> None:
    """The flow's refusals are, task by task, the policy's refusal of its callable."""
    tasks = {"ok": spec("mytasks:f")}
    for number, entry in enumerate(chosen):
        kind, _, value = entry.partition(":")
        tasks[f"t{number}"] = spec(use=value) if kind == "use" else spec(entry)
    policy = TaskPolicy(modules=("mytasks",), allow_all=allow_all)
    judged: list[str] = []

    class Counting(TaskPolicy):
        def module_refusal(self, module: str, *args: object) -> str | None:
            judged.append(module)
            return super().module_refusal(module, *args)  # type: ignore[arg-type]

    counting = Counting(modules=policy.modules, allow_all=allow_all)
    found = refusals(tasks, counting, wheel_modules={"wheelmod"}, narrowed=narrowed)
    expected = []
    for name, task in tasks.items():
        if task.callable is not None:
            why = policy.refusal(task.callable, wheel_modules={"wheelmod"}, narrowed=narrowed)
        elif task.use in tasks or allow_all:
            why = None
        else:
            why = refusals({name: task}, policy)[0].partition(": ")[2]
        if why is not None:
            expected.append(f"tasks.{name}: {why}")
    assert found == expected
    assert len(judged) == len(set(judged))


@settings(max_examples=200, deadline=None)
@given(
    chosen=st.lists(st.sampled_from([*CALLABLES, "use:t0", "use:plugin"]), min_size=1, max_size=12),
    allow_all=st.booleans(),
    narrowed=st.one_of(st.none(), st.sets(st.sampled_from(["mytasks", "wheelmod", "x"]))),
)
def test_a_parsed_flow_is_refused_as_its_tasks_are_one_by_one(
    chosen: list[str], allow_all: bool, narrowed: set[str] | None
) -> None:
    """`flow_refusals` judges the file's modules (`Workflow.by_module`); `refusals` each task."""
    lines = ["version: 1", "flow:", f"  graph: {' >> '.join(f't{n}' for n in range(len(chosen)))}"]
    lines.append("tasks:")
    for number, entry in enumerate(chosen):
        kind, _, value = entry.partition(":")
        task = f"use: {value}" if kind == "use" else f"callable: '{entry}'"
        lines.append(f"  t{number}: {{{task}}}")
    workflow = parse_workflow(("\n".join(lines) + "\n").encode())
    policy = TaskPolicy(modules=("mytasks",), allow_all=allow_all)
    options: dict[str, Any] = {"wheel_modules": {"wheelmod"}, "narrowed": narrowed}
    expected = refusals(workflow.tasks, policy, **options)
    assert flow_refusals(workflow, policy, **options) == expected
