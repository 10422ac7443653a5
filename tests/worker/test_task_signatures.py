"""Task functions keep their signature (engine.py `_keep_signatures`), and run as before."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from pyoco.core.models import Flow, Task

from pyoco_server.domain.records import Job
from pyoco_server.domain.snapshot import RunStatus
from pyoco_worker.engine import run_job
from pyoco_worker.flows import FlowSource
from tests.support.samples import A_JOB


def first(ctx: Any, x: int, scale: int = 10) -> str:
    return f"{type(ctx).__name__}:{x * scale}"


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def second(self, first: str) -> str:
        self.calls += 1
        return first.upper()


COUNTER = Counter()


def resolve(flow_name: str) -> Flow:
    flow = Flow(name=flow_name)
    a = Task(func=first, name="first")
    b = Task(func=COUNTER.second, name="second")  # a bound method takes no attributes
    b.dependencies.add(a)
    a.dependents.add(b)
    flow.add_task(a)
    flow.add_task(b)
    return flow


def _job(run_id: str) -> Job:
    return dataclasses.replace(A_JOB, run_id=run_id, params={"x": 2})


def test_functions_keep_the_signature_inspect_computes_and_runs_are_unchanged() -> None:
    computed = inspect.signature(first)
    assert "__signature__" not in vars(first)
    flows = FlowSource(resolve)
    for run in range(3):
        outcome = run_job(flows, _job(f"run-{run}"), lambda read: None)
        assert outcome.status is RunStatus.COMPLETED, outcome.error
        assert outcome.records["first"].output == "Context:20"  # ctx passed, param wired
        assert outcome.records["second"].output == "CONTEXT:20"
    assert vars(first)["__signature__"] == computed
    assert inspect.signature(first) is vars(first)["__signature__"]
    assert COUNTER.calls == 3
    assert not hasattr(COUNTER.second.__func__, "__signature__")
