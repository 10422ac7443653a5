"""What may run: the rules a flow.yaml's task callable must pass before anything is imported.

A callable (`package.module:function`) may run when its module is

1. one of the demo tasks of the README and docs/flow-yaml.md
   (`pyoco_server._workflow_test_tasks`: `add_one`, `to_text`, `double`, `square`, `add`);
2. provided by a registry wheel the run is bound to (one of the wheel's top-level modules);
3. listed by the operator (`PYOCO_TASK_MODULES`: the module or a parent package of it);
4. anything else, only when the operator chose `PYOCO_TASK_ALLOW_ALL`;

and, in every case, it is not in the never-allowed set: the standard library (`os`,
`subprocess`, `builtins`, `importlib`, `runpy`, `timeit`, `shutil`, `pickle`, `ctypes`, `sys`
and their kind) and the packages of pyoco-server and its tools. When the submitter's API key
narrows the modules (`task_modules` on the key), the callable must also be under one of them.
The gateway checks these rules at submit (422) and the worker again before it imports anything
(`callable_not_allowed`); the run process checks once more after import that the object found is
defined in the allowed module, not merely reachable through it (`mymod:getoutput` where
`mymod` did `from subprocess import getoutput` is refused).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Collection, Iterable

from pyoco_server.domain.workflow import Workflow

DEMO_MODULE = "pyoco_server._workflow_test_tasks"
DEMO_TASKS = frozenset(
    f"{DEMO_MODULE}:{name}" for name in ("add_one", "to_text", "double", "square", "add")
)

PROTECTED_PACKAGES = frozenset(
    {
        "pyoco_server",
        "pyoco_worker",
        "pyoco_client",
        "pyoco_server_sdk",
        "pyoco",
        "nats",
        "connexion",
        "starlette",
        "uvicorn",
        "uvloop",
        "pip",
        "uv",
        "setuptools",
        "pkg_resources",
        "_distutils_hack",
        "pytest",
        "_pytest",
    }
)
"""Packages of pyoco-server and its tools: never task code, whatever the settings."""


def is_never_allowed(module: str) -> bool:
    """True for the standard library and pyoco-server's own packages (and private ones)."""
    top = module.split(".", 1)[0]
    return (
        top in sys.stdlib_module_names
        or top in sys.builtin_module_names
        or top in PROTECTED_PACKAGES
        or top.startswith("_")
    )


def module_of(callable_path: str) -> str:
    """The module part of `module:attribute`."""
    return callable_path.partition(":")[0]


def _under(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


@dataclasses.dataclass(frozen=True, slots=True)
class TaskPolicy:
    """An operator's choice of what may run (`PYOCO_TASK_MODULES`, `PYOCO_TASK_ALLOW_ALL`)."""

    modules: tuple[str, ...] = ()
    allow_all: bool = False

    def refusal(
        self,
        callable_path: str,
        *,
        wheel_modules: Collection[str] = (),
        narrowed: Collection[str] | None = None,
    ) -> str | None:
        """Why `callable_path` may not run (for a person), or None when it may.

        `wheel_modules` are the top-level modules of the run's bound wheels; `narrowed` the
        modules the submitter's key is limited to, if any.
        """
        if callable_path in DEMO_TASKS:
            return None
        why = self.module_refusal(module_of(callable_path), wheel_modules, narrowed)
        return None if why is None else f"{callable_path!r} {why}"

    def module_refusal(
        self, module: str, wheel_modules: Collection[str], narrowed: Collection[str] | None
    ) -> str | None:
        """Why no callable of `module` (but the demo tasks) may run, or None when they may.

        The reason follows the callable's name in `refusal`'s message.
        """
        if is_never_allowed(module):
            return (
                "is in the standard library or in pyoco-server itself, which task code may "
                "never call"
            )
        if narrowed is not None and not _under(module, narrowed):
            return (
                "is outside the modules this API key may use "
                f"({', '.join(sorted(narrowed)) or 'none'})"
            )
        if _under(module, self.modules) or module.split(".", 1)[0] in wheel_modules:
            return None
        if self.allow_all:
            return None
        return (
            "is not allowed: its module comes from no registry wheel bound to "
            "this run and is not in PYOCO_TASK_MODULES; upload it as a wheel "
            "(pyoco-client wheel-upload) or have the operator list the module in "
            "PYOCO_TASK_MODULES on the workers and gateways"
        )

    def defined_in_allowed_module(
        self, defined_in: str, callable_path: str, wheel_modules: Collection[str] = ()
    ) -> bool:
        """After import: is the object (defined in module `defined_in`) itself allowed code?

        The object must be defined where its path says, or in another allowed module, never in
        the never-allowed set (`mymod:system` where `mymod` imported `os.system` is refused).
        """
        if callable_path in DEMO_TASKS:
            return defined_in == DEMO_MODULE
        if is_never_allowed(defined_in):
            return False
        module = module_of(callable_path)
        same_package = defined_in.split(".", 1)[0] == module.split(".", 1)[0]
        return (
            same_package
            or _under(defined_in, self.modules)
            or defined_in.split(".", 1)[0] in wheel_modules
            or self.allow_all
        )


def flow_refusals(
    workflow: Workflow,
    policy: TaskPolicy,
    *,
    wheel_modules: Collection[str] = (),
    narrowed: Collection[str] | None = None,
) -> list[str]:
    """Why each task of a flow.yaml may not run (empty when all may), checked before import.

    A `use:` task may alias another task of the same file; a plugin task (from an installed
    package's entry points) runs only with `PYOCO_TASK_ALLOW_ALL`. The rules look at a
    callable's module only (but for the demo tasks), so each module of the flow is judged once
    (`Workflow.by_module`) and its callables looked at only when it is refused: a flow of many
    tasks in a few modules costs a few judgements. The messages are those of `TaskPolicy.refusal`
    for each task, in the file's order; a generated test compares them task by task.
    """
    found: dict[str, str] = {}
    for module, paths in workflow.by_module.items():
        why = policy.module_refusal(module, wheel_modules, narrowed)
        if why is not None:
            for path, names in paths.items():
                if path not in DEMO_TASKS:
                    found.update((name, f"{path!r} {why}") for name in names)
    if not policy.allow_all:
        for name in workflow.plugins:
            found[name] = _plugin_refusal(workflow.tasks[name].use)
    if not found:
        return []
    return [f"tasks.{name}: {found[name]}" for name in workflow.tasks if name in found]


def _plugin_refusal(use: str | None) -> str:
    return (
        f"'use: {use}' names a plugin task, which runs only with "
        "PYOCO_TASK_ALLOW_ALL; name a callable ('callable: module:function') instead"
    )


def check_operator_modules(modules: Iterable[str]) -> list[str]:
    """The entries of `PYOCO_TASK_MODULES` that name never-allowed modules."""
    return [module for module in modules if is_never_allowed(module)]
