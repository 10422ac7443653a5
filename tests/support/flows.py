"""Flows for tests: the seed flow.yaml, flow.yaml builders, and a resolver for workers.

Workers use the resolver as `--flow-resolver tests.support.flows:resolve`.
"""

from __future__ import annotations

from pyoco import Flow, task

FLOW_YAML = b"""\
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
"""The seed README's flow.yaml."""

DEMO_TASKS = "pyoco_server._workflow_test_tasks"
"""The shipped demo tasks (add_one, to_text)."""

TEST_TASKS = "tests.support.tasks"
"""Task callables only tests use (tasks.py)."""


def flow_yaml(*tasks: str, defaults: str = "{}") -> bytes:
    """A flow.yaml running `tasks` in turn: demo tasks by name, or test tasks (tasks.py)."""
    lines = ["version: 1", "flow:", f"  graph: {' >> '.join(tasks)}", f"  defaults: {defaults}"]
    lines += ["tasks:"]
    lines += [f'  {name}: {{callable: "{callable_of(name)}"}}' for name in dict.fromkeys(tasks)]
    return ("\n".join(lines) + "\n").encode()


def callable_of(name: str) -> str:
    """`module:function` of a task used by tests."""
    module = DEMO_TASKS if name in ("add_one", "to_text") else TEST_TASKS
    return f"{module}:{name}"


@task
def double(x: int) -> int:
    return x * 2


def resolve(flow_name: str) -> Flow:
    """A flow resolver that knows one flow, `double`."""
    if flow_name != "double":
        raise KeyError(flow_name)
    flow = Flow(name="double")
    flow >> double
    return flow
