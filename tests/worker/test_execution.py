"""run_job and InProcessExecutor: a job's flow runs with pyoco and ends as a plain Outcome."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from pyoco_server.domain.records import Job
from pyoco_server.domain.snapshot import FailureReason, RunStatus, TaskState
from pyoco_server.domain.trust import TaskPolicy
from pyoco_worker.engine import InProcessExecutor, run_job
from pyoco_worker.execution import Outcome, Progress, RunControl
from pyoco_worker.flows import FlowSource
from tests.support.flows import FLOW_YAML, callable_of

RUNNING_SEEN = threading.Event()
"""Set by the progress callback of the executor test once it sees the task running."""


def wait_until_seen_running(x: int) -> bool:
    """A task that ends only when the loop has been told it is running (or after 10 s)."""
    return RUNNING_SEEN.wait(timeout=10.0)


def one_task_yaml(callable_path: str) -> str:
    return f"flow:\n  graph: only\ntasks:\n  only:\n    callable: {callable_path}\n"


def job(yaml: str | None, params: dict[str, object] | None = None) -> Job:
    return Job(
        run_id="run-1",
        flow_name="main",
        tag="default",
        tags=("default",),
        params={"x": 1} if params is None else params,
        submitted_at=1.0,
        workflow_yaml=yaml,
    )


TEST_MODULES = TaskPolicy(modules=("tests", "no_such_module_for_tests"))
"""The test task modules (and a missing one), allowed as an operator would list them."""


def run(for_job: Job, changed: Callable[[Callable[[], Progress]], None] | None = None) -> Outcome:
    return run_job(FlowSource(policy=TEST_MODULES), for_job, changed or (lambda read: None))


def test_seed_flow_completes_with_outputs() -> None:
    outcome = run(job(FLOW_YAML.decode()))

    assert outcome.status is RunStatus.COMPLETED
    assert outcome.error is None
    assert outcome.reason is None
    assert outcome.tasks == {"add_one": TaskState.SUCCEEDED, "to_text": TaskState.SUCCEEDED}
    add_one, to_text = outcome.records["add_one"], outcome.records["to_text"]
    assert (add_one.output, add_one.output_converted, add_one.inputs) == (2, False, {"x": 1})
    assert (to_text.output, to_text.output_converted, to_text.inputs) == (
        "2",
        False,
        {"add_one": 2},
    )
    assert add_one.started_at is not None
    assert add_one.ended_at is not None
    assert add_one.ended_at >= add_one.started_at


def test_params_reach_the_tasks() -> None:
    outcome = run(job(FLOW_YAML.decode(), params={"x": 41}))

    assert outcome.records["to_text"].output == "42"


def test_a_task_that_raises_fails_the_run_with_its_error() -> None:
    yaml = FLOW_YAML.decode().replace(callable_of("add_one"), callable_of("fail"))

    outcome = run(job(yaml))

    assert outcome.status is RunStatus.FAILED
    assert outcome.reason is FailureReason.EXECUTION_ERROR
    assert outcome.error == "ValueError: boom: x was 1"
    failed = outcome.records["add_one"]
    assert failed.state is TaskState.FAILED
    assert failed.error is not None
    assert "boom" in failed.error
    assert failed.traceback is not None
    assert "ValueError: boom" in failed.traceback
    assert failed.output is None
    assert outcome.tasks["to_text"] is TaskState.PENDING


def test_non_json_output_is_converted_and_marked() -> None:
    outcome = run(job(one_task_yaml(callable_of("non_json"))))

    assert outcome.status is RunStatus.COMPLETED
    assert outcome.records["only"].output == [1, 2]
    assert outcome.records["only"].output_converted is True


def test_unknown_flow_fails_with_flow_not_found() -> None:
    outcome = run(job(None))

    assert outcome.status is RunStatus.FAILED
    assert outcome.reason is FailureReason.FLOW_NOT_FOUND
    assert outcome.error is not None
    assert outcome.error.startswith("flow_not_found: ")
    assert "--flow-resolver" in outcome.error
    assert (outcome.tasks, outcome.records) == ({}, {})


def test_a_task_outside_the_allowed_modules_fails_with_nothing_imported() -> None:
    outcome = run_job(FlowSource(), job(one_task_yaml(callable_of("non_json"))), lambda read: None)

    assert outcome.status is RunStatus.FAILED
    assert outcome.reason is FailureReason.CALLABLE_NOT_ALLOWED
    assert outcome.error is not None
    assert "PYOCO_TASK_MODULES" in outcome.error


def test_unimportable_task_fails_with_flow_not_found() -> None:
    outcome = run(job(one_task_yaml("no_such_module_for_tests:f")))

    assert outcome.reason is FailureReason.FLOW_NOT_FOUND
    assert outcome.error is not None
    assert "no_such_module_for_tests" in outcome.error


def test_invalid_yaml_fails_with_invalid_workflow() -> None:
    outcome = run(job("flow:\n  graph: a >\n"))

    assert outcome.status is RunStatus.FAILED
    assert outcome.reason is FailureReason.INVALID_WORKFLOW
    assert outcome.error is not None
    assert outcome.error.startswith("invalid_workflow: ")


def test_changed_is_called_as_tasks_progress() -> None:
    seen: list[dict[str, TaskState]] = []

    outcome = run(job(FLOW_YAML.decode()), lambda read: seen.append(dict(read().tasks)))

    assert seen
    add_one_states = [tasks["add_one"] for tasks in seen]
    assert TaskState.RUNNING in add_one_states
    assert add_one_states.index(TaskState.RUNNING) < add_one_states.index(TaskState.SUCCEEDED)
    assert seen[-1] == outcome.tasks


def test_in_process_executor_delivers_progress_on_the_loop_during_the_run() -> None:
    RUNNING_SEEN.clear()
    yaml = one_task_yaml(f"{__name__}:wait_until_seen_running")
    received: list[Progress] = []
    threads: set[int] = set()

    def on_progress(progress: Progress) -> None:
        threads.add(threading.get_ident())
        received.append(progress)
        if progress.tasks.get("only") is TaskState.RUNNING:
            RUNNING_SEEN.set()

    async def main() -> tuple[Outcome, int]:
        executor = InProcessExecutor(FlowSource(policy=TEST_MODULES))
        outcome = await asyncio.wait_for(
            executor.execute(job(yaml), on_progress, RunControl()), 30.0
        )
        return outcome, threading.get_ident()

    outcome, loop_thread = asyncio.run(main())

    assert outcome.status is RunStatus.COMPLETED
    assert outcome.records["only"].output is True, "the task never saw progress reach the loop"
    assert received
    assert threads == {loop_thread}
