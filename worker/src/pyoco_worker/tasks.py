"""Loading a flow.yaml's task callables in a run process, only after the policy allows them.

Every task is checked against the rules of `pyoco_server.domain.trust` before anything is
imported (a refusal is `CallableNotAllowed`, and the run ends `callable_not_allowed`); then its
module is imported and the object is checked once more: it must be defined in an allowed module,
not merely reachable through one. `use:` aliases another task of the file. pyoco's own
`TaskLoader` (which imports every installed plug-in and the modules of PYOCO_DISCOVERY_MODULES)
is used only for plug-in tasks under PYOCO_TASK_ALLOW_ALL.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import io
from collections.abc import Collection
from typing import Any

from pyoco.core.models import Task
from pyoco.discovery.loader import TaskLoader
from pyoco.dsl.syntax import TaskWrapper
from pyoco.schemas.config import FlowConfig, PyocoConfig, RuntimeConfig, TaskConfig

from pyoco_server.domain.errors import CallableNotAllowed, FlowNotFound
from pyoco_server.domain.trust import TaskPolicy, flow_refusals
from pyoco_server.domain.workflow import TaskSpec, Workflow


def load_tasks(
    flow_name: str,
    workflow: Workflow,
    policy: TaskPolicy,
    *,
    wheel_modules: Collection[str] = (),
    narrowed: Collection[str] | None = None,
) -> dict[str, Task]:
    """The workflow's tasks, each allowed by `policy` (see the module docstring).

    Raises:
        CallableNotAllowed: a task may not run here; nothing of it was imported.
        FlowNotFound: a module cannot be imported or lacks the callable.
    """
    refused = flow_refusals(workflow, policy, wheel_modules=wheel_modules, narrowed=narrowed)
    if refused:
        raise CallableNotAllowed("; ".join(refused))
    if any(
        spec.use is not None and spec.use not in workflow.tasks for spec in workflow.tasks.values()
    ):
        return _with_pyoco_loader(flow_name, workflow)  # plug-ins: PYOCO_TASK_ALLOW_ALL only
    tasks = {
        name: _imported(flow_name, name, spec, policy, wheel_modules)
        for name, spec in workflow.tasks.items()
        if spec.callable is not None
    }
    for name, spec in workflow.tasks.items():
        if spec.use is not None:
            tasks[name] = _alias(tasks[spec.use], name, spec)
    return tasks


def _imported(
    flow_name: str, name: str, spec: TaskSpec, policy: TaskPolicy, wheel_modules: Collection[str]
) -> Task:
    assert spec.callable is not None
    module_name, _, attribute = spec.callable.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except Exception as exc:  # the module's own code may fail in any way; report it
        raise FlowNotFound(
            flow_name, f"tasks.{name}: cannot import {module_name}: {exc!r}"
        ) from None
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise FlowNotFound(
                flow_name, f"tasks.{name}: {module_name} has no attribute {attribute!r}"
            ) from None
    func = _function_of(found)
    defined_in = str(getattr(func, "__module__", "") or "")
    if not callable(func) or not policy.defined_in_allowed_module(
        defined_in, spec.callable, wheel_modules
    ):
        raise CallableNotAllowed(
            f"tasks.{name}: {spec.callable!r} resolves to code of {defined_in or 'no module'!r}, "
            "which is not an allowed module"
        )
    task = Task(func=func, name=name)
    task.inputs = copy.deepcopy(dict(spec.inputs))
    task.outputs = list(spec.outputs)
    return task


def _function_of(found: Any) -> Any:
    if isinstance(found, TaskWrapper):
        return found.task.func
    if isinstance(found, Task):
        return found.func
    return found


def _alias(source: Task, name: str, spec: TaskSpec) -> Task:
    alias = Task(func=source.func, name=name)
    alias.inputs = {**copy.deepcopy(source.inputs), **copy.deepcopy(dict(spec.inputs))}
    alias.outputs = [*source.outputs, *spec.outputs]
    return alias


def _with_pyoco_loader(flow_name: str, workflow: Workflow) -> dict[str, Task]:
    config = PyocoConfig(
        version=1,
        flow=FlowConfig(graph=workflow.graph, defaults=dict(workflow.defaults)),
        tasks={
            name: TaskConfig(
                callable=spec.callable,
                use=spec.use,
                inputs=copy.deepcopy(dict(spec.inputs)),
                outputs=list(spec.outputs),
            )
            for name, spec in workflow.tasks.items()
        },
        pipes=dict(workflow.pipes),
        runtime=RuntimeConfig(expose_env=list(workflow.expose_env)),
    )
    loader = TaskLoader(config)
    printed = io.StringIO()
    try:
        # TaskLoader reports import failures by printing them; keep them for the error.
        with contextlib.redirect_stdout(printed):
            loader.load()
    except ValueError as exc:
        printed_errors = printed.getvalue().strip().replace("\n", "; ")
        detail = f"{exc}; {printed_errors}" if printed_errors else str(exc)
        raise FlowNotFound(flow_name, detail) from None
    missing = [name for name in workflow.tasks if name not in loader.tasks]
    if missing:
        reason = printed.getvalue().strip().replace("\n", "; ") or "not importable"
        raise FlowNotFound(flow_name, f"cannot load task(s) {', '.join(missing)}: {reason}")
    return dict(loader.tasks)
