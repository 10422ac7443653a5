"""A flow resolver for tests: `--flow-resolver tests.flows:resolve`."""

from __future__ import annotations

from pyoco import Flow, task


@task
def double(x: int) -> int:
    return x * 2


def resolve(flow_name: str) -> Flow:
    if flow_name != "double":
        raise KeyError(flow_name)
    flow = Flow(name="double")
    flow >> double
    return flow
