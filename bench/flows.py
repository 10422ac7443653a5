"""The benchmark's flows: the trivial 2-task `add_one >> to_text` by name (`--flow-resolver`),
and as flow.yaml files: the seed's, and one of 50 tasks."""

from __future__ import annotations

from pyoco import Flow
from pyoco.core.models import Task

from pyoco_server._workflow_test_tasks import add_one, to_text


def resolve(flow_name: str) -> Flow:
    if flow_name != "trivial":
        raise KeyError(flow_name)
    flow = Flow(name="trivial")
    flow >> Task(func=add_one, name="add_one") >> Task(func=to_text, name="to_text")
    return flow


SEED_YAML = b"""\
version: 1
flow:
  graph: |
    add_one >> to_text
  defaults:
    x: 1
tasks:
  add_one:
    callable: pyoco_server._workflow_test_tasks:add_one
  to_text:
    callable: pyoco_server._workflow_test_tasks:to_text
"""
"""The seed README's flow.yaml: the same trivial flow."""


DEMO = "pyoco_server._workflow_test_tasks"
"""The demo tasks' module."""


def chain_yaml(tasks: int = 50, module: str | None = None) -> bytes:
    """A flow.yaml of `tasks` demo tasks in a chain, each adding one to `x`.

    With `module`, each task calls a function of its own in that module (`step1` calls
    `module:step1`, and so on), as a user's flow does: the allowlist judges such callables by
    their module, where the demo tasks are allowed by name.
    """
    names = [f"step{n}" for n in range(1, tasks + 1)]
    lines = ["version: 1", "flow:", f"  graph: {' >> '.join(names)}", "  defaults: {x: 1}"]
    lines += ["tasks:"]
    lines += [
        f"  {name}: {{callable: {module or DEMO}:{name if module else 'add_one'}}}"
        for name in names
    ]
    return ("\n".join(lines) + "\n").encode()
