"""Snapshots always fit: errors and tracebacks cut at the source (head and tail kept), attempts
capped, and a last-resort shrink under NATS's largest message."""

from __future__ import annotations

import pytest

from pyoco_server.domain.codec import SNAPSHOT, encode_snapshot
from pyoco_server.domain.errors import PayloadTooLarge
from pyoco_server.domain.snapshot import (
    MAX_ATTEMPTS_KEPT,
    MAX_ERROR_CHARS,
    MAX_TRACEBACK_CHARS,
    RunSnapshot,
    RunStatus,
    TaskRecord,
    TaskState,
    bounded_record,
    bounded_text,
)
from tests.support.samples import PENDING, job

MEGABYTE = 1024 * 1024


def test_a_long_text_keeps_its_head_and_tail() -> None:
    text = "HEAD" + "x" * 100_000 + "TAIL"
    cut = bounded_text(text, 1000)
    assert cut is not None
    assert cut.startswith("HEAD")
    assert cut.endswith("TAIL")
    assert len(cut) < 1100
    assert f"[... {len(text) - 1000} characters cut ...]" in cut
    assert bounded_text("short", 1000) == "short"
    assert bounded_text(None, 10) is None


def test_a_task_records_error_and_traceback_are_cut() -> None:
    record = TaskRecord(TaskState.FAILED, error="e" * MEGABYTE, traceback="t" * MEGABYTE)
    cut = bounded_record(record)
    assert cut.error is not None
    assert cut.traceback is not None
    assert len(cut.error) < MAX_ERROR_CHARS + 100
    assert len(cut.traceback) < MAX_TRACEBACK_CHARS + 100
    small = TaskRecord(TaskState.FAILED, error="boom")
    assert bounded_record(small) is small


def test_a_run_error_is_cut_when_the_run_ends() -> None:
    ended = PENDING.claimed("w1", 1, 2.0).finished(RunStatus.FAILED, 3.0, error="e" * MEGABYTE)
    assert ended.error is not None
    assert len(ended.error) < MAX_ERROR_CHARS + 100
    assert ended.attempts[-1].error == ended.error


def test_attempts_are_capped_keeping_the_first_and_the_latest() -> None:
    snapshot = PENDING
    for attempt in range(1, 101):
        snapshot = snapshot.claimed("w1", attempt, float(attempt)).retry_scheduled(
            float(attempt), 0.0, error="x" * 10_000, reason="execution_error"
        )
    attempts = [record.attempt for record in snapshot.attempts]
    assert len(attempts) == MAX_ATTEMPTS_KEPT
    assert attempts[0] == 1
    assert attempts[1:] == list(range(100 - MAX_ATTEMPTS_KEPT + 2, 101))
    assert len(encode_snapshot(snapshot, 256 * 1024, MEGABYTE)) < MEGABYTE


def test_a_snapshot_over_the_nats_limit_is_shrunk_not_refused() -> None:
    records = {f"t{n}": TaskRecord(TaskState.SUCCEEDED, output="o" * 100_000) for n in range(20)}
    big = PENDING.claimed("w1", 1, 2.0).progressed({}, records, 3.0)
    ended = big.finished(RunStatus.FAILED, 4.0, error="e" * 5000)
    raw = encode_snapshot(ended, 10 * MEGABYTE, 8000)
    assert len(raw) <= 8000
    kept = SNAPSHOT.decode(raw)
    assert kept.status is RunStatus.FAILED
    assert kept.task_records_truncated
    assert kept.error is not None
    assert len(kept.error) < 1200


def test_a_snapshot_whose_params_alone_are_too_big_is_refused() -> None:
    huge = RunSnapshot.pending(job("run-big", params={"x": "p" * 20_000}))
    with pytest.raises(PayloadTooLarge):
        encode_snapshot(huge, 10_000, 10_000)
