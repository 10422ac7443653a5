"""Re-runs, stored flow.yaml files, default tenants and replays, on the memory backend.

Through HTTP with a real gateway, NATS and workers: tests/e2e/test_rerun.py and
tests/server/test_tenants_api.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from pyoco_server.domain.errors import (
    BackendUnavailable,
    IdempotencyConflict,
    RunNotFound,
    WorkflowNotStored,
)
from pyoco_server.domain.records import CodeVersion, RetryPolicy
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunStatus
from pyoco_server.domain.workflow import parse_workflow
from pyoco_server.memory import MemoryBackend
from pyoco_server.services.idempotency import IdempotentSubmits
from pyoco_server.services.runs import RunService, Submission, rerun_of
from pyoco_server.services.workflows import WorkflowTexts
from tests.support.fakes import Spy
from tests.support.flows import FLOW_YAML
from tests.support.samples import PENDING

T = TypeVar("T")
DAY = 86400.0
SETTINGS = Settings(default_tenant="legacy", run_retention_sec=10 * DAY)
WORKFLOW = parse_workflow(FLOW_YAML)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


class Deployment:
    """RunService with stored flow.yaml files on a memory backend, and a test clock."""

    def __init__(self) -> None:
        self.backend = MemoryBackend(SETTINGS)
        self.monotonic = 0.0
        self.store = Spy(self.backend.workflows)
        self.texts = WorkflowTexts(
            self.store, SETTINGS.run_retention_sec, clock=lambda: self.monotonic, known_max=3
        )
        self.service = RunService(
            self.backend.runs, self.backend.jobs, SETTINGS, workflows=self.texts
        )
        self.submits = IdempotentSubmits(self.service, self.backend.idempotency)

    def submit(self, submission: Submission, key: str | None = None) -> Any:
        return run(self.submits.submit(submission, key))

    @property
    def puts(self) -> int:
        return len(self.store.calls_to("put"))


def test_a_flow_yaml_is_stored_once_per_process_and_refreshed_within_the_retention() -> None:
    d = Deployment()
    yaml = Submission("main", {"x": 1}, workflow=WORKFLOW)
    for _ in range(3):
        d.submit(yaml)
    assert d.puts == 1
    assert run(d.service.workflow_text(WORKFLOW.sha256)) == FLOW_YAML
    d.monotonic += 0.9 * DAY  # under a tenth of the retention: still known
    d.submit(yaml)
    assert d.puts == 1
    d.monotonic += 0.2 * DAY  # past it: stored again, which restarts the bucket's max age
    d.submit(yaml)
    assert d.puts == 2
    d.submit(Submission("main", {}))  # runs without a file store nothing
    assert d.puts == 2


def test_the_known_files_are_bounded() -> None:
    d = Deployment()
    files = [parse_workflow(FLOW_YAML + f"# {n}\n".encode()) for n in range(5)]
    for workflow in files:
        d.submit(Submission("main", {}, workflow=workflow))
    d.submit(Submission("main", {}, workflow=files[0]))  # forgotten (3 kept): stored again
    d.submit(Submission("main", {}, workflow=files[4]))  # still known
    assert d.puts == 6


def test_a_file_that_cannot_be_stored_does_not_fail_the_submit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    d = Deployment()
    d.store.fail("put", BackendUnavailable("the workflows bucket is missing"))
    with caplog.at_level(logging.WARNING):
        accepted = d.submit(Submission("main", {}, workflow=WORKFLOW))
    assert d.backend.runs.current(accepted.run_id) is not None
    assert "not stored for re-runs" in caplog.text
    del d.store.before["put"]
    d.submit(Submission("main", {}, workflow=WORKFLOW))  # not remembered: tried again
    assert run(d.service.workflow_text(WORKFLOW.sha256)) == FLOW_YAML


def test_a_rerun_repeats_the_run_with_params_merged_and_code_pinned() -> None:
    code = CodeVersion("my_ext", "0.1.0", "ab" * 32, "my_ext-0.1.0-py3-none-any.whl")
    original = dataclasses.replace(
        PENDING,
        params={"x": 1, "y": 2},
        tags=("default", "nightly"),
        tenant_id="acme",
        timeout_sec=30.0,
        retry=RetryPolicy(max_attempts=3),
        code=(code,),
    )
    again = rerun_of(original, None, params={"y": 5, "z": 0})
    assert again.params == {"x": 1, "y": 5, "z": 0}
    assert (again.flow_name, again.tag, tuple(again.tags)) == ("main", "default", original.tags)
    assert (again.timeout_sec, again.retry, again.tenant_id) == (30.0, original.retry, "acme")
    assert tuple(again.requires) == ("my_ext==0.1.0",)
    assert again.rerun_of == PENDING.run_id
    moved = rerun_of(dataclasses.replace(original, tags=("default",)), None, tag="gpu")
    assert (moved.tag, tuple(moved.tags)) == ("gpu", ())  # the tag-only label follows the tag
    longer = rerun_of(original, None, timeout_sec=90.0)
    assert (longer.timeout_sec, longer.retry) == (90.0, original.retry)


def test_a_rerun_is_a_new_run_linked_to_the_original() -> None:
    d = Deployment()
    first = d.submit(Submission("main", {"x": 1}, workflow=WORKFLOW))
    original, raw = run(d.service.rerun_source(first.run_id))
    assert raw == FLOW_YAML
    again = d.submit(rerun_of(original, parse_workflow(raw), params={"x": 2}), key="k")
    assert again.run_id != first.run_id
    assert again.response["rerun_of"] == first.run_id
    stored = d.backend.runs.current(again.run_id)
    assert stored is not None
    assert (stored.rerun_of, stored.params, stored.workflow_yaml_sha256) == (
        first.run_id,
        {"x": 2},
        WORKFLOW.sha256,
    )
    replay = d.submit(rerun_of(original, parse_workflow(raw), params={"x": 2}), key="k")
    assert (replay.replayed, replay.run_id) == (True, again.run_id)
    with pytest.raises(IdempotencyConflict):  # one key, a plain submit of the same request
        d.submit(Submission("main", {"x": 2}, workflow=WORKFLOW), key="k")


def test_a_rerun_of_a_file_no_longer_stored_is_refused() -> None:
    d = Deployment()
    first = d.submit(Submission("main", {}, workflow=WORKFLOW))
    d.backend.workflows.forget(WORKFLOW.sha256)
    with pytest.raises(WorkflowNotStored, match="no longer stored") as refused:
        run(d.service.rerun_source(first.run_id))
    assert "POST /runs/yaml" in refused.value.detail


def test_runs_submitted_without_a_tenant_belong_to_the_default_tenant() -> None:
    d = Deployment()
    fresh = d.submit(Submission("main", {}))
    assert d.backend.runs.current(fresh.run_id).tenant_id == "legacy"  # type: ignore[union-attr]
    d.backend.runs.put(dataclasses.replace(PENDING, run_id="old", tenant_id=None))
    assert run(d.service.get("old", "legacy")).snapshot.run_id == "old"
    assert run(d.service.get("old")).snapshot.run_id == "old"  # not limited: every tenant
    with pytest.raises(RunNotFound):
        run(d.service.get("old", "acme"))


def test_a_replay_answers_the_runs_current_status() -> None:
    d = Deployment()
    first = d.submit(Submission("main", {}), key="k")
    assert first.response["status"] == "PENDING"
    current = d.backend.runs.current(first.run_id)
    assert current is not None
    d.backend.runs.put(current.finished(RunStatus.COMPLETED, 5.0))
    replay = d.submit(Submission("main", {}), key="k")
    assert replay.replayed
    assert {**replay.response, "status": "PENDING"} == dict(first.response)
    assert replay.response["status"] == "COMPLETED"
