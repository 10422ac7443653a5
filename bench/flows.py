"""The benchmark's trivial 2-task flow, `add_one >> to_text`, by name (`--flow-resolver`)."""

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
