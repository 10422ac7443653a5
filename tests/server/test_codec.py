"""The codec: messages round-trip through bytes; bad bytes and bad objects are refused."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from pyoco_server.domain.codec import (
    DEAD_LETTER,
    JOB,
    SNAPSHOT,
    check_finite,
    dumps,
    encode_snapshot,
)
from pyoco_server.domain.errors import ContractError, DecodeError
from pyoco_server.domain.records import DeadLetter, DeadLetterReason, Job
from pyoco_server.domain.snapshot import (
    FailureReason,
    RunSnapshot,
    RunStatus,
    TaskRecord,
    TaskState,
)
from tests.support.flows import FLOW_YAML

A_JOB = Job(
    run_id="0b6f4a1e-6c8f-4f1e-9d4b-2f5c1d9e8a70",
    flow_name="main",
    tag="default",
    tags=("default", "gpu"),
    params={"x": 1, "nested": {"names": ["a", "é"]}},
    submitted_at=1_700_000_000.25,
)

YAML_JOB = dataclasses.replace(
    A_JOB,
    tenant_id="t1",
    api_key_id="k1",
    workflow_yaml=FLOW_YAML.decode(),
    workflow_yaml_sha256="a" * 64,
    workflow_yaml_bytes=len(FLOW_YAML),
)

A_SNAPSHOT = RunSnapshot(
    run_id="run-1",
    flow_name="main",
    tag="default",
    tags=("default",),
    status=RunStatus.FAILED,
    params={"x": 1},
    submitted_at=10.0,
    updated_at=12.5,
    tasks={"add_one": TaskState.SUCCEEDED, "to_text": TaskState.FAILED},
    task_records={
        "add_one": TaskRecord(
            state=TaskState.SUCCEEDED,
            started_at=11.0,
            ended_at=11.5,
            duration_ms=500.0,
            inputs={"x": 1},
            output=[1, 2],
            output_converted=True,
        ),
        "to_text": TaskRecord(
            state=TaskState.FAILED,
            started_at=11.5,
            ended_at=12.0,
            error="boom",
            traceback="Traceback ...",
            inputs={"add_one": 2},
        ),
    },
    tenant_id="t1",
    worker_id="w1",
    attempt=2,
    start_time=11.0,
    end_time=12.5,
    heartbeat_at=12.5,
    error="ValueError: boom",
    error_reason=FailureReason.EXECUTION_ERROR,
    workflow_yaml_sha256="b" * 64,
    workflow_yaml_bytes=123,
)


def job_bytes(**changes: object) -> bytes:
    data = {
        "run_id": "r1",
        "flow_name": "main",
        "tag": "default",
        "tags": ["default"],
        "params": {"x": 1},
        "submitted_at": 1.0,
    }
    data.update(changes)
    return json.dumps(data).encode()


@pytest.mark.parametrize("job", [A_JOB, YAML_JOB], ids=["named", "yaml"])
def test_job_round_trips(job: Job) -> None:
    assert JOB.decode(JOB.encode(job)) == job


def test_job_bytes_are_compact_utf8_without_absent_fields() -> None:
    raw = JOB.encode(A_JOB)

    assert b": " not in raw
    assert "é".encode() in raw
    assert b"workflow_yaml" not in raw
    assert b"tenant_id" not in raw


def test_snapshot_round_trips() -> None:
    assert SNAPSHOT.decode(encode_snapshot(A_SNAPSHOT)) == A_SNAPSHOT


def test_pending_snapshot_round_trips() -> None:
    pending = RunSnapshot(
        run_id="run-2",
        flow_name="main",
        tag="default",
        tags=("default",),
        status=RunStatus.PENDING,
        params={},
        submitted_at=1.0,
        updated_at=1.0,
    )

    assert SNAPSHOT.decode(encode_snapshot(pending)) == pending


@pytest.mark.parametrize(
    "letter",
    [
        DeadLetter(
            reason=DeadLetterReason.EXECUTION_ERROR,
            error="ValueError: boom",
            timestamp=5.0,
            tag="default",
            subject="pyoco.work.default",
            run_id=A_JOB.run_id,
            flow_name="main",
            worker_id="w1",
            num_delivered=3,
            job=YAML_JOB,
        ),
        DeadLetter(
            reason=DeadLetterReason.INVALID_JOB,
            error="not UTF-8 JSON",
            timestamp=5.0,
            tag="default",
            subject="pyoco.work.default",
            payload="{not json",
        ),
    ],
    ids=["with-job", "invalid-job"],
)
def test_dead_letter_round_trips(letter: DeadLetter) -> None:
    assert DEAD_LETTER.decode(DEAD_LETTER.encode(letter)) == letter


@pytest.mark.parametrize(
    ("decode", "raw"),
    [
        (JOB.decode, b"{not json"),
        (JOB.decode, b""),
        (JOB.decode, b'{"run_id": "\xc3\x28"}'),
        (SNAPSHOT.decode, b"[1, 2"),
        (DEAD_LETTER.decode, b"\x80"),
    ],
    ids=["job-not-json", "job-empty", "job-not-utf8", "snapshot-not-json", "letter-not-utf8"],
)
def test_undecodable_bytes_raise_decode_error_with_the_raw_bytes(
    decode: Callable[[bytes], object], raw: bytes
) -> None:
    with pytest.raises(DecodeError) as info:
        decode(raw)

    assert info.value.raw == raw
    assert "not UTF-8 JSON" in info.value.detail


@pytest.mark.parametrize(
    ("decode", "raw", "where"),
    [
        (JOB.decode, job_bytes(tag="a.b"), "tag"),
        (JOB.decode, job_bytes(run_id="has space"), "run_id"),
        (JOB.decode, job_bytes(params=[1]), "params"),
        (JOB.decode, b'{"run_id": "r1"}', "(root)"),
        (JOB.decode, b"[]", "(root)"),
        (SNAPSHOT.decode, encode_snapshot(A_SNAPSHOT).replace(b'"FAILED"', b'"DONE"', 1), "status"),
        (DEAD_LETTER.decode, b'{"reason":"lost","error":"e","timestamp":1,"tag":"t"}', "reason"),
    ],
    ids=[
        "job-tag",
        "job-run-id",
        "job-params",
        "job-missing-fields",
        "job-array",
        "snapshot-status",
        "letter-reason",
    ],
)
def test_schema_invalid_bytes_raise_decode_error_naming_the_field(
    decode: Callable[[bytes], object], raw: bytes, where: str
) -> None:
    with pytest.raises(DecodeError) as info:
        decode(raw)

    assert info.value.raw == raw
    assert where in info.value.detail


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_json_number_constants_raise_decode_error(constant: bytes) -> None:
    raw = job_bytes(params={"x": "placeholder"}).replace(b'"placeholder"', constant)

    with pytest.raises(DecodeError) as info:
        JOB.decode(raw)

    assert info.value.raw == raw


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_json_in_another_unicode_encoding_raises_decode_error(encoding: str) -> None:
    raw = job_bytes().decode().encode(encoding)

    with pytest.raises(DecodeError):
        JOB.decode(raw)


def test_deeply_nested_json_raises_decode_error() -> None:
    raw = b"[" * 100_000 + b"]" * 100_000

    with pytest.raises(DecodeError) as info:
        JOB.decode(raw)

    assert info.value.raw == raw


@pytest.mark.parametrize(
    ("encode", "value", "where"),
    [
        (JOB.encode, dataclasses.replace(A_JOB, tag="a.b"), "tag"),
        (JOB.encode, dataclasses.replace(A_JOB, run_id=""), "run_id"),
        (JOB.encode, dataclasses.replace(A_JOB, workflow_yaml_sha256="not-hex"), "sha256"),
        (encode_snapshot, dataclasses.replace(A_SNAPSHOT, attempt=-1), "attempt"),
        (encode_snapshot, dataclasses.replace(A_SNAPSHOT, run_id="a/b"), "run_id"),
        (
            DEAD_LETTER.encode,
            DeadLetter(
                reason=DeadLetterReason.FLOW_NOT_FOUND,
                error="e",
                timestamp=1.0,
                tag="t",
                job=dataclasses.replace(A_JOB, tag="a.b"),
            ),
            "job",
        ),
    ],
    ids=["job-tag", "job-run-id", "job-sha", "snapshot-attempt", "snapshot-run-id", "letter-job"],
)
def test_encoding_an_invalid_object_raises_contract_error(
    encode: Callable[[Any], bytes], value: object, where: str
) -> None:
    with pytest.raises(ContractError) as info:
        encode(value)

    assert not isinstance(info.value, DecodeError)
    assert where in info.value.detail


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_check_finite_rejects_nan_and_infinity(number: float) -> None:
    # dumps (orjson) would write null; callers check user data with check_finite first.
    with pytest.raises(ValueError, match="JSON compliant"):
        check_finite({"params": {"x": [number]}})
    check_finite({"params": {"x": [1.5, "NaN"]}})


def test_dumps_is_compact_utf8() -> None:
    assert dumps({"a": [1, "é"], "b": None}) == '{"a":[1,"é"],"b":null}'.encode()


def test_snapshot_over_the_limit_drops_its_task_records() -> None:
    full = encode_snapshot(A_SNAPSHOT)

    raw = encode_snapshot(A_SNAPSHOT, max_bytes=len(full) - 1)

    decoded = SNAPSHOT.decode(raw)
    assert len(raw) < len(full)
    assert decoded.task_records == {}
    assert decoded.task_records_truncated is True
    assert decoded.tasks == A_SNAPSHOT.tasks
    assert decoded.status is RunStatus.FAILED
    assert decoded.error == A_SNAPSHOT.error


def test_snapshot_within_the_limit_keeps_its_task_records() -> None:
    full = encode_snapshot(A_SNAPSHOT)

    raw = encode_snapshot(A_SNAPSHOT, max_bytes=len(full))

    assert raw == full
    assert SNAPSHOT.decode(raw).task_records_truncated is False


def test_snapshot_without_records_is_kept_whole_even_over_the_limit() -> None:
    bare = dataclasses.replace(A_SNAPSHOT, task_records={})

    raw = encode_snapshot(bare, max_bytes=10)

    assert SNAPSHOT.decode(raw) == bare
