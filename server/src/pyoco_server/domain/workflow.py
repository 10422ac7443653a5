"""flow.yaml: parse and validate a single-flow workflow file (pyoco 0.8 format), never `exec`.

The gateway validates an upload with `parse_workflow` before anything is stored, so a bad file is
refused with the reason; the worker parses the same text again to build the flow. The graph is
read into a plan by `pyoco_server.domain.graph`; every task it names must be declared under
`tasks:`, each with `callable:` or `use:`, imported only on the worker. `check_params` refuses
the params of a run that the flow does not know (see `Workflow.known_params`).

YAML is read by libyaml's C scanner and parser where PyYAML has it (PyYAML's pure-Python ones
otherwise, five to seven times slower), composed by a composer that counts nodes as it goes, so
a file that expands past `_MAX_NODES` (aliases count their whole subtree at every use) or nests
past `_MAX_DEPTH` is refused before anything is built, and constructed by PyYAML's safe
constructor. Every way a hostile file can fail is an `InvalidWorkflow`, never another error.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, Event, NodeEvent
from yaml.nodes import Node

from pyoco_server.domain.errors import InvalidWorkflow
from pyoco_server.domain.graph import GraphPlan, plan_graph

_TOP_KEYS = ("version", "flow", "tasks", "pipes", "runtime")
_FLOW_KEYS = ("graph", "defaults")
_TASK_KEYS = ("callable", "use", "inputs", "outputs")
_RUNTIME_KEYS = ("expose_env",)
_CALLABLE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
_NAME = re.compile(r"^[A-Za-z_]\w*$")
_PARAM_INPUT = re.compile(r"^\$ctx\.params\.(.+)$", re.DOTALL)
_MAX_NODES = 100_000
"""Values a file may expand to, aliases counted at every use (stops 'billion laughs')."""
_MAX_DEPTH = 100  # how deeply collections may nest

_FORBIDDEN = {
    "flows": "one flow per file: use 'flow:' with a 'graph:' instead of 'flows:'",
    "discovery": "'discovery' is not allowed; declare each task under 'tasks:' with "
    "'callable: package.module:function' (a module the workers' PYOCO_TASK_MODULES allows) or "
    "'use:' (another task of the file)",
}


@dataclasses.dataclass(frozen=True, slots=True)
class TaskSpec:
    """One entry of `tasks:`."""

    callable: str | None
    use: str | None
    inputs: Mapping[str, Any]
    outputs: tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Workflow:
    """A validated flow.yaml."""

    text: str
    sha256: str
    size: int
    graph: str
    defaults: Mapping[str, Any]
    tasks: Mapping[str, TaskSpec]
    pipes: Mapping[str, str]
    expose_env: tuple[str, ...]
    plan: GraphPlan
    """What the graph runs: its steps, the tasks it names, the params it reads."""
    known_params: tuple[str, ...]
    """The params the flow declares: the keys of `flow.defaults`, and the `$ctx.params.NAME`
    its task inputs and graph expressions read. Empty: the flow declares none, and its tasks
    take params by parameter name, which cannot be known without importing them."""
    by_module: Mapping[str, Mapping[str, tuple[str, ...]]]
    """The tasks naming a callable, by module and callable, in order (`trust.flow_refusals`)."""
    plugins: tuple[str, ...]
    """The tasks whose `use:` names no task of the file (a plug-in task's name)."""


def parse_workflow(raw: bytes) -> Workflow:
    """Parse and validate flow.yaml bytes.

    Raises:
        InvalidWorkflow: the file is not UTF-8 YAML, breaks the format, or its graph does not
            parse; `reason` is a code and the message says where and why.
    """
    text = _decode(raw)
    document = _load_yaml(text)
    if not isinstance(document, dict):
        raise InvalidWorkflow(
            "invalid_yaml_root", "the file must be a mapping with 'flow:' and 'tasks:'"
        )
    _check_keys(document, _TOP_KEYS, "top-level", forbidden=_FORBIDDEN)
    _check_version(document.get("version", 1))
    graph, defaults = _flow_section(document.get("flow"))
    tasks = _tasks_section(document.get("tasks"))
    pipes = _pipes_section(document.get("pipes"))
    plan = plan_graph(graph, pipes)
    _check_declared(plan, tasks)
    return Workflow(
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        graph=graph,
        defaults=defaults,
        tasks=tasks,
        pipes=pipes,
        expose_env=_runtime_section(document.get("runtime")),
        plan=plan,
        known_params=_known_params(defaults, tasks, plan),
        by_module=_by_module(tasks),
        plugins=tuple(name for name, spec in tasks.items() if spec.use and spec.use not in tasks),
    )


def check_params(workflow: Workflow, params: Mapping[str, Any]) -> None:
    """Refuse params the flow does not know, when it declares any (`Workflow.known_params`).

    Raises:
        InvalidWorkflow: `unknown_params`, naming them and the known ones.
    """
    known = workflow.known_params
    unknown = sorted(key for key in params if key not in known)
    if known and unknown:
        raise InvalidWorkflow(
            "unknown_params",
            f"params {unknown} are used by no task and no default; known: {', '.join(known)} "
            "(a task that takes a param by its parameter name needs it in flow.defaults)",
        )


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidWorkflow(
            "not_utf8", f"the file is not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None


def _load_yaml(text: str) -> Any:
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise InvalidWorkflow("invalid_yaml", f"{where}{exc.problem}") from None
    except yaml.YAMLError as exc:
        raise InvalidWorkflow("invalid_yaml", str(exc)) from None
    except RecursionError:
        raise InvalidWorkflow("too_complex", "the file is nested too deeply") from None
    except (ValueError, ArithmeticError, LookupError, TypeError, AttributeError) as exc:
        # The safe constructor converts scalars with int(), float(), datetime and base64 and
        # lets their errors through (a 5,000-digit integer, month 13, a `!!timestamp` that is
        # not one): each is a value the file cannot hold.
        raise InvalidWorkflow(
            "invalid_yaml", f"a value cannot be read: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        loader.dispose()


class _Budget(Composer):
    """PyYAML's composer, counting nodes and depth as it composes (see the module docstring).

    An alias costs the size of the subtree it names, at every use; an alias inside the very
    node it names (a recursive structure) expands without end and is refused.
    """

    peek_event: Callable[[], Event]
    """The parser's (the loader provides it)."""

    def __init__(self) -> None:
        Composer.__init__(self)  # not super(): the loaders' own __init__ takes the stream
        self._spent = 0
        self._depth = 0
        self._sizes: dict[str, int] = {}

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self._spend(self._alias_size(event.anchor or ""))
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > _MAX_DEPTH:
            raise InvalidWorkflow("too_complex", f"the file nests deeper than {_MAX_DEPTH} levels")
        before = self._spent
        self._spend(1)
        node = super().compose_node(parent, index)
        self._depth -= 1
        anchor = event.anchor if isinstance(event, NodeEvent) else None
        if anchor is not None:
            self._sizes[anchor] = self._spent - before
        return node

    def _alias_size(self, anchor: str) -> int:
        size = self._sizes.get(anchor)
        if size is None and anchor in self.anchors:
            raise InvalidWorkflow(
                "too_complex", f"alias *{anchor} is used inside the node it names (a cycle)"
            )
        return size or 0  # an undefined alias: the composer says so

    def _spend(self, nodes: int) -> None:
        self._spent += nodes
        if self._spent > _MAX_NODES:
            raise InvalidWorkflow(
                "too_complex", f"the file expands to more than {_MAX_NODES} values"
            )


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Budget, _BaseLoader):  # type: ignore[misc]
    """The safe loader, libyaml's where there is one, composing with `_Budget`.

    `_Budget` comes first, so its composer (Python) is used rather than the C parser's own,
    which cannot be made to count; the C parser still scans and parses.
    """

    def __init__(self, text: str) -> None:
        _BaseLoader.__init__(self, text)
        _Budget.__init__(self)


def _check_keys(
    section: Mapping[Any, Any],
    allowed: tuple[str, ...],
    where: str,
    forbidden: Mapping[str, str] | None = None,
) -> None:
    for key in section:
        if forbidden and key in forbidden:
            raise InvalidWorkflow("unsupported_key", forbidden[key])
    unknown = [str(key) for key in section if key not in allowed]
    if unknown:
        raise InvalidWorkflow(
            "unknown_keys",
            f"unknown {where} key(s) {', '.join(map(repr, unknown))}; allowed: "
            + ", ".join(allowed),
        )


def _check_version(version: Any) -> None:
    if isinstance(version, bool) or version not in (1, "1"):
        raise InvalidWorkflow("unsupported_version", f"version must be 1, not {version!r}")


def _flow_section(flow: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(flow, dict):
        raise InvalidWorkflow("missing_flow_graph", "'flow:' must be a mapping with a 'graph:'")
    _check_keys(flow, _FLOW_KEYS, "flow")
    graph = flow.get("graph")
    if not isinstance(graph, str) or not graph.strip():
        raise InvalidWorkflow("missing_flow_graph", "'flow.graph' must be a non-empty string")
    defaults = _optional(flow, "defaults", {})
    if not isinstance(defaults, dict):
        raise InvalidWorkflow("invalid_defaults", "'flow.defaults' must be a mapping")
    return graph, json_value(defaults, "flow.defaults", reason="invalid_defaults")


def _optional(section: Mapping[str, Any], key: str, default: Any) -> Any:
    """`section[key]`, or `default` when the key is absent or null (but not when it is falsy)."""
    value = section.get(key)
    return default if value is None else value


def json_value(value: Any, where: str, *, reason: str) -> Any:
    """Check that a YAML value is plain JSON (YAML dates and binary are not)."""
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise InvalidWorkflow(reason, f"{where} has a non-text key {key!r}; quote it")
        return {
            key: json_value(item, f"{where}.{key}", reason=reason) for key, item in value.items()
        }
    if isinstance(value, list):
        return [json_value(item, f"{where}[{i}]", reason=reason) for i, item in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidWorkflow(reason, f"{where} is {value!r}, which JSON cannot carry")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    kind = "date" if isinstance(value, (datetime.date, datetime.datetime)) else type(value).__name__
    raise InvalidWorkflow(reason, f"{where} is a YAML {kind}; quote it to pass it as text")


def _tasks_section(tasks: Any) -> dict[str, TaskSpec]:
    if tasks is None:
        return {}
    if not isinstance(tasks, dict):
        raise InvalidWorkflow("invalid_task", "'tasks:' must be a mapping of task name to task")
    return {_task_name(name): _task(str(name), body) for name, body in tasks.items()}


def _task_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidWorkflow(
            "invalid_task", f"task name {name!r} must be an identifier (letters, digits, '_')"
        )
    return name


def _task(name: str, body: Any) -> TaskSpec:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise InvalidWorkflow("invalid_task", f"tasks.{name} must be a mapping")
    _check_keys(body, _TASK_KEYS, f"tasks.{name}")
    target, use = body.get("callable"), body.get("use")
    if target is None and use is None:
        raise InvalidWorkflow(
            "missing_callable",
            f"tasks.{name} has neither 'callable:' nor 'use:'; add 'callable: "
            "package.module:function' (or 'use:' and the name of another task)",
        )
    if target is not None and use is not None:
        raise InvalidWorkflow(
            "invalid_task", f"tasks.{name} needs exactly one of 'callable:' or 'use:', not both"
        )
    if target is not None and (not isinstance(target, str) or not _CALLABLE.fullmatch(target)):
        raise InvalidWorkflow(
            "invalid_task_callable",
            f"tasks.{name}.callable must look like 'package.module:function', not {target!r}",
        )
    if use is not None and (not isinstance(use, str) or not use.strip()):
        raise InvalidWorkflow("invalid_task", f"tasks.{name}.use must be a task name")
    inputs = _optional(body, "inputs", {})
    if not isinstance(inputs, dict):
        raise InvalidWorkflow("invalid_task", f"tasks.{name}.inputs must be a mapping")
    outputs = _optional(body, "outputs", [])
    if not isinstance(outputs, list) or not all(isinstance(item, str) for item in outputs):
        raise InvalidWorkflow("invalid_task", f"tasks.{name}.outputs must be a list of paths")
    return TaskSpec(
        callable=target,
        use=use,
        inputs=json_value(inputs, f"tasks.{name}.inputs", reason="invalid_task"),
        outputs=tuple(outputs),
    )


def _pipes_section(pipes: Any) -> dict[str, str]:
    if pipes is None:
        return {}
    if not isinstance(pipes, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in pipes.items()
    ):
        raise InvalidWorkflow("invalid_pipes", "'pipes:' must map pipe names to graph text")
    return dict(pipes)


def _runtime_section(runtime: Any) -> tuple[str, ...]:
    if runtime is None:
        return ()
    if not isinstance(runtime, dict):
        raise InvalidWorkflow("invalid_runtime", "'runtime:' must be a mapping")
    _check_keys(runtime, _RUNTIME_KEYS, "runtime")
    expose = _optional(runtime, "expose_env", [])
    if not isinstance(expose, list) or not all(isinstance(item, str) for item in expose):
        raise InvalidWorkflow("invalid_runtime", "'runtime.expose_env' must be a list of names")
    return tuple(expose)


def _check_declared(plan: GraphPlan, tasks: Mapping[str, TaskSpec]) -> None:
    undeclared = [name for name in plan.tasks if name not in tasks]
    if undeclared:
        raise InvalidWorkflow(
            "undeclared_task",
            f"flow.graph names task(s) {undeclared} that are not under 'tasks:'; declared: "
            f"{', '.join(tasks) or '(none)'}; declare each with 'callable:' or 'use:'",
        )


def _by_module(tasks: Mapping[str, TaskSpec]) -> dict[str, dict[str, tuple[str, ...]]]:
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    for name, spec in tasks.items():
        if spec.callable is not None:
            paths = found.setdefault(spec.callable.partition(":")[0], {})
            paths[spec.callable] = (*paths.get(spec.callable, ()), name)
    return found


def _known_params(
    defaults: Mapping[str, Any], tasks: Mapping[str, TaskSpec], plan: GraphPlan
) -> tuple[str, ...]:
    read = (
        match.group(1)
        for spec in tasks.values()
        for value in spec.inputs.values()
        if isinstance(value, str) and (match := _PARAM_INPUT.match(value))
    )
    return tuple(dict.fromkeys([*defaults, *read, *plan.params]))
