"""The rules under the snapshot transitions: `RunSnapshot._evolve`, RetryPolicy backoff and
FailureReason.retryable."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from pyoco_server.domain.records import CodeVersion, RetryPolicy
from pyoco_server.domain.snapshot import (
    AttemptRecord,
    FailureReason,
    RunSnapshot,
    RunStatus,
    RunStopping,
    StopReason,
    TaskRecord,
    TaskState,
)
from tests.support.samples import FULL_JOB


def running() -> RunSnapshot:
    """The run of `FULL_JOB`, claimed by w1 (every field set but the end and the error)."""
    return RunSnapshot.pending(FULL_JOB).claimed("w1", 1, 20.0)


# --- _evolve ---------------------------------------------------------------------------------

_OTHER_VALUES: dict[str, Any] = {
    "run_id": "run-2",
    "flow_name": "other",
    "tag": "cpu",
    "tags": ("cpu",),
    "status": RunStatus.CANCELLING,
    "params": {"z": 3},
    "submitted_at": 1.5,
    "updated_at": 2.5,
    "tasks": {"a": TaskState.RUNNING},
    "task_records": {"a": TaskRecord(TaskState.RUNNING, started_at=3.0)},
    "task_records_truncated": True,
    "tenant_id": "tenant-b",
    "api_key_id": "key-2",
    "worker_id": "w9",
    "attempt": 9,
    "start_time": 4.0,
    "end_time": 5.0,
    "heartbeat_at": 6.0,
    "error": "err",
    "error_reason": "crashed",
    "workflow_yaml_sha256": "cd" * 32,
    "workflow_yaml_bytes": 99,
    "timeout_sec": 7.0,
    "retry": RetryPolicy(max_attempts=9),
    "attempts": (AttemptRecord(9, "w9", 4.0),),
    "next_attempt_at": 8.0,
    "cancel_requested_at": 9.0,
    "cancel_requested_by": "carol",
    "cancel_reason": "why not",
    "job_seq": 42,
    "code": (CodeVersion("my-ext", "1.0", "ab" * 32, "my_ext-1.0-py3-none-any.whl"),),
    "rerun_of": "run-0",
    "stopping": RunStopping(StopReason.TIMEOUT, 3.0, 4.0),
}


def test_every_field_has_a_test_value() -> None:
    assert set(_OTHER_VALUES) == {field.name for field in dataclasses.fields(RunSnapshot)}


@pytest.mark.parametrize("name", sorted(_OTHER_VALUES))
def test_evolve_of_one_field_equals_dataclasses_replace(name: str) -> None:
    base = running()
    value = _OTHER_VALUES[name]
    assert getattr(base, name) != value, "the test value must differ from the base value"

    evolved = base._evolve(**{name: value})

    assert evolved == dataclasses.replace(base, **{name: value})
    assert getattr(evolved, name) == value
    assert base == running(), "the original is unchanged"


def test_evolve_of_every_field_at_once_equals_dataclasses_replace() -> None:
    base = running()

    assert base._evolve(**_OTHER_VALUES) == dataclasses.replace(base, **_OTHER_VALUES)


def test_evolve_without_changes_is_an_equal_copy() -> None:
    base = running()

    copy = base._evolve()

    assert copy == base
    assert copy is not base


def test_evolve_rejects_unknown_fields() -> None:
    with pytest.raises(TypeError, match=r"no field\(s\) \['bogus', 'nope'\]"):
        running()._evolve(status=RunStatus.FAILED, bogus=1, nope=2)


# --- RetryPolicy and FailureReason -----------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "delays"),
    [
        (RetryPolicy(max_attempts=5), [1.0, 2.0, 4.0, 8.0, 16.0]),
        (RetryPolicy(5, backoff_sec=0.5, backoff_multiplier=3.0), [0.5, 1.5, 4.5, 13.5]),
        (RetryPolicy(5, backoff_sec=2.0, backoff_multiplier=1.0), [2.0, 2.0, 2.0]),
        (RetryPolicy(9, backoff_sec=1.0, max_backoff_sec=5.0), [1.0, 2.0, 4.0, 5.0, 5.0]),
        (RetryPolicy(2, backoff_sec=0.0), [0.0, 0.0]),
    ],
    ids=["defaults", "multiplier", "constant", "capped", "no-wait"],
)
def test_delay_after_backs_off_and_is_capped(policy: RetryPolicy, delays: list[float]) -> None:
    got = [policy.delay_after(failed) for failed in range(1, len(delays) + 1)]

    assert got == delays
    assert all(isinstance(delay, float) for delay in got)


def test_delay_after_zero_failures_is_the_first_backoff() -> None:
    assert RetryPolicy(3, backoff_sec=0.25).delay_after(0) == 0.25


def test_default_max_backoff_is_five_minutes() -> None:
    assert RetryPolicy(max_attempts=20).delay_after(20) == 300.0


@pytest.mark.parametrize(
    ("reason", "retryable"),
    [
        (FailureReason.EXECUTION_ERROR, True),
        (FailureReason.CRASHED, True),
        (FailureReason.TIMEOUT, True),
        (FailureReason.FLOW_NOT_FOUND, False),
        (FailureReason.INVALID_WORKFLOW, False),
        (FailureReason.CALLABLE_NOT_ALLOWED, False),
        (FailureReason.CODE_UNAVAILABLE, False),
        (FailureReason.MAX_DELIVERIES_EXCEEDED, False),
        (FailureReason.LOST, False),
        (FailureReason.CANCELLED, False),
    ],
)
def test_failure_reason_retryable(reason: FailureReason, retryable: bool) -> None:
    assert reason.retryable is retryable


def test_every_failure_reason_is_classified() -> None:
    assert len(list(FailureReason)) == 10
