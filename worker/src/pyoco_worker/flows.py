"""Building the pyoco `Flow` of a job, on the worker.

A job that carries a flow.yaml has its tasks loaded under the worker's task policy (tasks.py)
and its graph read by `parse_workflow` into steps (`pyoco_server.domain.graph`), never `exec`.
Both are cached by the file's SHA-256, so a run process reads and loads each distinct file once;
every run then gets fresh `Task` objects wired from the steps (a Task's dependencies are its own
mutable sets), with `&` and `|` groups as pyoco's Python DSL sets them: dependencies, and
`trigger_policy="ANY"` after an `|` group. pyoco's engine runs the tasks whose dependencies are
met in parallel threads. A graph with control flow (switch, repeat, foreach, until) is built by
pyoco's `build_flow_from_graph`. Any other job is resolved by name through the worker's
`--flow-resolver` (operator code: the policy does not apply to it).
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyoco.core.models import Flow, Task
from pyoco.dsl.graph import GraphReferenceError, build_flow_from_graph

from pyoco_server.domain.errors import FlowNotFound, InvalidWorkflow
from pyoco_server.domain.graph import Step
from pyoco_server.domain.records import Job
from pyoco_server.domain.trust import TaskPolicy
from pyoco_server.domain.workflow import Workflow, parse_workflow
from pyoco_worker.execution import NO_CODE, Installed
from pyoco_worker.tasks import load_tasks

FlowResolver = Callable[[str], Flow]
_CACHE_SIZE = 128


class ResolverError(ValueError):
    """A `--flow-resolver` spec that cannot be loaded."""


def load_resolver(spec: str) -> FlowResolver:
    """Load `module:function` or `path/to/file.py:function` (split at the last ':')."""
    target, sep, attribute = spec.rpartition(":")
    if not sep or not target or not attribute:
        raise ResolverError(f"--flow-resolver {spec!r} must look like 'module:function'")
    module = _import_target(target)
    value: Any = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise ResolverError(
                f"--flow-resolver: {target!r} has no attribute {attribute!r}"
            ) from None
    if not callable(value):
        raise ResolverError(f"--flow-resolver: {spec!r} is not callable")
    return value  # type: ignore[no-any-return]


def _import_target(target: str) -> Any:
    if target.endswith(".py"):
        path = Path(target).expanduser().resolve()
        if not path.is_file():
            raise ResolverError(f"--flow-resolver: no such file {target!r}")
        name = f"pyoco_worker_resolver_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ResolverError(f"--flow-resolver: cannot import {target!r}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # the user's file may fail in any way; report it, do not crash
            sys.modules.pop(name, None)
            raise ResolverError(f"--flow-resolver: importing {target!r} failed: {exc!r}") from exc
        return module
    try:
        return importlib.import_module(target)
    except Exception as exc:  # as above: a syntax or runtime error in the user's module
        raise ResolverError(f"--flow-resolver: cannot import {target!r}: {exc!r}") from exc


@dataclasses.dataclass(frozen=True, slots=True)
class BuiltFlow:
    """A job's flow, and the environment variables its flow.yaml asks to expose."""

    flow: Flow
    expose_env: tuple[str, ...] = ()


class FlowSource:
    """Builds the flow of each job: from its flow.yaml, or by name through a resolver."""

    def __init__(
        self, resolver: FlowResolver | None = None, policy: TaskPolicy | None = None
    ) -> None:
        self._resolver = resolver
        self._policy = policy or TaskPolicy()
        self._templates: collections.OrderedDict[
            tuple[str, tuple[str, ...], tuple[str, ...] | None],
            tuple[Workflow, dict[str, Task]],
        ] = collections.OrderedDict()

    def build(self, job: Job, installed: Installed = NO_CODE) -> BuiltFlow:
        """A fresh flow for `job`, run with the wheels `installed`.

        Raises:
            FlowNotFound: no resolver knows the flow, or its tasks cannot be imported here.
            InvalidWorkflow: the job's flow.yaml is invalid or its graph does not compile.
            CallableNotAllowed: a task's callable may not run here (nothing was imported).
        """
        if job.workflow_yaml is not None:
            return self._from_yaml(job, job.workflow_yaml, installed)
        return BuiltFlow(self._from_resolver(job.flow_name))

    def _from_resolver(self, flow_name: str) -> Flow:
        if self._resolver is None:
            raise FlowNotFound(
                flow_name,
                "this worker has no --flow-resolver; submit a flow.yaml (POST /runs/yaml) or "
                "start the worker with --flow-resolver module:function",
            )
        try:
            flow = self._resolver(flow_name)
        except KeyError as exc:
            raise FlowNotFound(flow_name, f"the flow resolver does not know it ({exc})") from None
        if not isinstance(flow, Flow):
            raise FlowNotFound(
                flow_name, f"the flow resolver returned {type(flow).__name__}, not a pyoco Flow"
            )
        return flow

    def _from_yaml(self, job: Job, text: str, installed: Installed) -> BuiltFlow:
        workflow, templates = self._template(job, text, installed)
        if workflow.plan.steps is not None:
            return BuiltFlow(
                _wired(job.flow_name, workflow.plan.steps, templates), workflow.expose_env
            )
        tasks = {name: _clone(task) for name, task in templates.items()}
        try:
            flow = build_flow_from_graph(
                graph=workflow.graph,
                tasks=tasks,
                pipes=dict(workflow.pipes),
                flow_name=job.flow_name,
            )
        except GraphReferenceError as exc:
            raise FlowNotFound(job.flow_name, str(exc)) from None
        except ValueError as exc:
            raise InvalidWorkflow("invalid_graph", str(exc)) from None
        return BuiltFlow(flow, workflow.expose_env)

    def _template(
        self, job: Job, text: str, installed: Installed
    ) -> tuple[Workflow, dict[str, Task]]:
        # The key includes what limits the tasks, so a cache hit never skips a check.
        key = (job.workflow_yaml_sha256 or text, installed.key, job.task_modules)
        cached = self._templates.get(key)
        if cached is not None:
            self._templates.move_to_end(key)
            return cached
        workflow = parse_workflow(text.encode())
        tasks = load_tasks(
            job.flow_name,
            workflow,
            self._policy,
            wheel_modules=installed.modules,
            narrowed=job.task_modules,
        )
        loaded = (workflow, tasks)
        self._templates[key] = loaded
        if len(self._templates) > _CACHE_SIZE:
            self._templates.popitem(last=False)
        return loaded

    def forget(self) -> None:
        """Drop cached task templates (after installing new task code)."""
        self._templates.clear()


def _wired(flow_name: str, steps: tuple[Step, ...], templates: dict[str, Task]) -> Flow:
    """A flow of fresh tasks, one per step, depending on each other as the steps say."""
    missing = [step.task for step in steps if step.task not in templates]
    if missing:
        raise FlowNotFound(flow_name, f"Task not found: {', '.join(missing)}")
    tasks = {step.name: _clone(templates[step.task], step.name) for step in steps}
    flow = Flow(name=flow_name)
    for step in steps:
        task = tasks[step.name]
        if step.any_of:
            task.trigger_policy = "ANY"
        for name in step.after:
            task.dependencies.add(tasks[name])
            tasks[name].dependents.add(task)
        flow.add_task(task)
    return flow


def _clone(task: Task, name: str | None = None) -> Task:
    return Task(
        func=task.func,
        name=name or task.name,
        inputs=copy.deepcopy(task.inputs),
        outputs=list(task.outputs),
        parallel_group=task.parallel_group,
        fail_policy=task.fail_policy,
        retries=task.retries,
        timeout_sec=task.timeout_sec,
        trigger_policy=task.trigger_policy,
    )
