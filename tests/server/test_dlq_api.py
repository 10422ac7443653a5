"""GET /dlq and POST /dlq/{dead_letter_id}/redrive against the real gateway and NATS.

The tests stand in for workers: they publish dead letters straight to `pyoco.dlq.<tag>`, write
run snapshots into the `pyoco_runs` bucket, and read the work stream, all with nats-py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import httpx
import nats
import pytest

from pyoco_server.codec import decode_job, decode_snapshot, encode_dead_letter, encode_snapshot
from pyoco_server.messages import DeadLetter, DeadLetterReason, Job
from pyoco_server.settings import Settings
from pyoco_server.snapshot import FailureReason, RunSnapshot, RunStatus
from tests.conftest import Gateway

PROBLEM = "application/problem+json"
ITEM_KEYS = {
    "id",
    "reason",
    "error",
    "timestamp",
    "tag",
    "subject",
    "run_id",
    "flow_name",
    "worker_id",
    "num_delivered",
    "payload",
    "redrivable",
}


def letter(reason: DeadLetterReason, tag: str = "default", **fields: Any) -> DeadLetter:
    return DeadLetter(
        reason=reason,
        error=f"{reason.value} happened",
        timestamp=time.time(),
        tag=tag,
        subject=f"pyoco.work.{tag}",
        **fields,
    )


async def _publish(
    settings: Settings, records: Sequence[DeadLetter | tuple[str, bytes]]
) -> list[int]:
    nc = await nats.connect(settings.nats_url)
    try:
        js = nc.jetstream()
        seqs = []
        for item in records:
            if isinstance(item, DeadLetter):
                subject, data = f"pyoco.dlq.{item.tag}", encode_dead_letter(item)
            else:
                subject, data = item
            seqs.append((await js.publish(subject, data, stream=settings.dlq_stream)).seq)
        return seqs
    finally:
        await nc.close()


def publish(settings: Settings, *records: DeadLetter | tuple[str, bytes]) -> list[int]:
    """Publish dead letters (or raw (subject, bytes) records) in order; their sequences."""
    return asyncio.run(_publish(settings, records))


async def _delete_msgs(settings: Settings, stream: str, seqs: Sequence[int]) -> None:
    nc = await nats.connect(settings.nats_url)
    try:
        for seq in seqs:
            await nc.jetstream().delete_msg(stream, seq)
    finally:
        await nc.close()


def delete_msgs(settings: Settings, stream: str, *seqs: int) -> None:
    asyncio.run(_delete_msgs(settings, stream, seqs))


@dataclasses.dataclass
class WorkMessage:
    seq: int
    subject: str
    job: Job
    msg_id: str


async def _work(settings: Settings) -> list[WorkMessage]:
    nc = await nats.connect(settings.nats_url)
    try:
        js = nc.jetstream()
        state = (await js.stream_info(settings.work_stream)).state
        found = []
        for seq in range(max(1, state.first_seq), state.last_seq + 1):
            try:
                msg = await js.get_msg(settings.work_stream, seq)
            except nats.js.errors.NotFoundError:
                continue
            assert msg.subject is not None
            assert msg.data is not None
            headers = msg.headers or {}
            found.append(
                WorkMessage(seq, msg.subject, decode_job(msg.data), headers["Nats-Msg-Id"])
            )
        return found
    finally:
        await nc.close()


def work_messages(settings: Settings) -> list[WorkMessage]:
    """Every job on the work stream, oldest first."""
    return asyncio.run(_work(settings))


async def _snapshot(
    settings: Settings, run_id: str, write: RunSnapshot | None
) -> tuple[RunSnapshot, int]:
    nc = await nats.connect(settings.nats_url)
    try:
        kv = await nc.jetstream().key_value(settings.runs_kv_bucket)
        if write is not None:
            await kv.put(run_id, encode_snapshot(write))
        entry = await kv.get(run_id)
        assert entry.value is not None
        return decode_snapshot(entry.value), int(entry.revision or 0)
    finally:
        await nc.close()


def stored_snapshot(settings: Settings, run_id: str) -> tuple[RunSnapshot, int]:
    """The run's snapshot in the bucket and its revision."""
    return asyncio.run(_snapshot(settings, run_id, None))


def write_snapshot(settings: Settings, snapshot: RunSnapshot) -> None:
    """Write a snapshot as the run's worker would."""
    asyncio.run(_snapshot(settings, snapshot.run_id, snapshot))


def submit(client: httpx.Client, tag: str = "redrive", flow_name: str = "nowhere") -> str:
    response = client.post("/runs", json={"flow_name": flow_name, "tag": tag})
    assert response.status_code == 201, response.text
    return str(response.json()["run_id"])


def dead_letter_of_failed_run(settings: Settings, run_id: str, attempts: int) -> DeadLetter:
    """Act as the worker that failed `run_id` `attempts` times with flow_not_found: take its
    job off the work stream, store the FAILED snapshot, and return the dead letter to publish."""
    (message,) = [m for m in work_messages(settings) if m.job.run_id == run_id]
    delete_msgs(settings, settings.work_stream, message.seq)
    snapshot, _ = stored_snapshot(settings, run_id)
    now = time.time()
    for attempt in range(1, attempts + 1):
        snapshot = snapshot.claimed("w1", attempt, now).finished(
            RunStatus.FAILED, now, error="no flow 'nowhere'", reason=FailureReason.FLOW_NOT_FOUND
        )
    write_snapshot(settings, snapshot)
    return letter(
        DeadLetterReason.FLOW_NOT_FOUND,
        tag=message.job.tag,
        run_id=run_id,
        flow_name=message.job.flow_name,
        worker_id="w1",
        num_delivered=attempts,
        job=message.job,
    )


def page(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get("/dlq", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def ids(body: dict[str, Any]) -> list[int]:
    return [int(item["id"]) for item in body["items"]]


def assert_problem(response: httpx.Response, status: int, reason: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    if reason is not None:
        assert response.json()["reason"] == reason


# Listing


def test_empty_dead_letter_stream(gateway: Gateway) -> None:
    with gateway.client() as client:
        assert page(client) == {"items": [], "next_cursor": None}
        assert page(client, reason="timeout", tag="default", cursor="5") == {
            "items": [],
            "next_cursor": None,
        }


def test_items_follow_the_schema_newest_first(gateway: Gateway, settings: Settings) -> None:
    job = Job("run-1", "main", "default", ("default",), {"x": 1}, 1.0)
    seqs = publish(
        settings,
        letter(DeadLetterReason.INVALID_JOB, payload="{not json"),
        letter(DeadLetterReason.EXECUTION_ERROR, run_id="run-1", num_delivered=1, job=job),
    )
    with gateway.client() as client:
        body = page(client)
    assert ids(body) == seqs[::-1]
    assert body["next_cursor"] is None
    newest, oldest = body["items"]
    assert set(newest) == ITEM_KEYS, "the job itself is not returned"
    assert newest["redrivable"] is True
    assert newest["run_id"] == "run-1"
    assert newest["reason"] == "execution_error"
    assert oldest["redrivable"] is False
    assert oldest["payload"] == "{not json"


def test_reason_and_tag_filters(gateway: Gateway, settings: Settings) -> None:
    seqs = publish(
        settings,
        letter(DeadLetterReason.FLOW_NOT_FOUND, tag="a"),
        letter(DeadLetterReason.EXECUTION_ERROR, tag="a"),
        letter(DeadLetterReason.FLOW_NOT_FOUND, tag="b"),
        letter(DeadLetterReason.TIMEOUT, tag="b"),
        letter(DeadLetterReason.FLOW_NOT_FOUND, tag="a"),
    )
    with gateway.client() as client:
        assert ids(page(client, reason="flow_not_found")) == [seqs[4], seqs[2], seqs[0]]
        assert ids(page(client, tag="b")) == [seqs[3], seqs[2]]
        assert ids(page(client, reason="flow_not_found", tag="a")) == [seqs[4], seqs[0]]
        assert ids(page(client, reason="max_deliveries_exceeded")) == []
        assert ids(page(client, tag="c")) == []


@pytest.mark.parametrize("params", [{}, {"reason": "flow_not_found"}])
def test_paging_with_the_cursor_reads_every_record_once(
    gateway: Gateway, settings: Settings, params: dict[str, str]
) -> None:
    reasons = [DeadLetterReason.FLOW_NOT_FOUND, DeadLetterReason.EXECUTION_ERROR] * 4
    seqs = publish(settings, *(letter(reason) for reason in reasons[:7]))
    wanted = [
        seq
        for seq, reason in zip(seqs, reasons, strict=False)
        if params.get("reason") in (None, reason.value)
    ]
    seen: list[int] = []
    cursor: str | None = None
    with gateway.client() as client:
        for _ in range(10):
            body = page(client, limit=3, **params, **({"cursor": cursor} if cursor else {}))
            assert len(body["items"]) <= 3
            seen += ids(body)
            cursor = body["next_cursor"]
            if cursor is None:
                break
    assert seen == wanted[::-1]


def test_a_page_reads_a_bounded_number_of_records(gateway: Gateway, settings: Settings) -> None:
    rare = publish(settings, letter(DeadLetterReason.TIMEOUT))[0]
    publish(settings, *(letter(DeadLetterReason.EXECUTION_ERROR) for _ in range(210)))
    last = rare + 210
    with gateway.client() as client:
        first = page(client, reason="timeout", limit=1)
        assert first == {"items": [], "next_cursor": str(last - 200)}, "200 records read"
        second = page(client, reason="timeout", limit=1, cursor=first["next_cursor"])
    assert ids(second) == [rare]
    assert second["next_cursor"] is None


def test_deleted_records_are_skipped(gateway: Gateway, settings: Settings) -> None:
    seqs = publish(settings, *(letter(DeadLetterReason.TIMEOUT) for _ in range(4)))
    delete_msgs(settings, settings.dlq_stream, seqs[1], seqs[3])
    with gateway.client() as client:
        assert ids(page(client)) == [seqs[2], seqs[0]]
        assert ids(page(client, limit=1, cursor=str(seqs[3]))) == [seqs[2]]


def test_records_that_do_not_decode_are_shown_not_redrivable(
    gateway: Gateway, settings: Settings
) -> None:
    seqs = publish(
        settings,
        ("pyoco.dlq.t1", b'{"reason": "timeout", "tag": "t1", "timestamp": 5}'),
        ("pyoco.dlq.t2", b"\xff not json"),
    )
    with gateway.client() as client:
        body = page(client)
        assert ids(body) == seqs[::-1]
        garbage, partial = body["items"]
        assert garbage["reason"] == "invalid_job"
        assert garbage["tag"] == "t2"
        assert garbage["payload"] == "\ufffd not json"
        assert garbage["timestamp"] > 0
        assert partial["reason"] == "timeout"
        assert partial["tag"] == "t1"
        assert partial["timestamp"] == 5
        assert "asyncapi.yaml" in partial["error"]
        assert not garbage["redrivable"]
        assert not partial["redrivable"]
        assert ids(page(client, reason="timeout")) == [seqs[0]]
        assert_problem(client.post(f"/dlq/{seqs[0]}/redrive"), 409, "not_redrivable")


@pytest.mark.parametrize(
    "params",
    [
        {"reason": "bored"},
        {"tag": "a.b"},
        {"limit": "0"},
        {"limit": "201"},
        {"cursor": "x"},
        {"cursor": "-1"},
        {"cursor": "1" * 21},
    ],
)
def test_listing_with_bad_parameters_is_400(gateway: Gateway, params: dict[str, str]) -> None:
    with gateway.client() as client:
        assert_problem(client.get("/dlq", params=params), 400)


# Redrive


def test_redrive_requeues_the_run_with_its_attempts(gateway: Gateway, settings: Settings) -> None:
    with gateway.client() as client:
        run_id = submit(client)
        dead = dead_letter_of_failed_run(settings, run_id, attempts=2)
        (seq,) = publish(settings, dead)
        assert dead.job is not None

        response = client.post(f"/dlq/{seq}/redrive")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {
            "run_id": run_id,
            "status": "PENDING",
            "flow_name": "nowhere",
            "tag": "redrive",
        }

        run = client.get(f"/runs/{run_id}").json()
        assert run["status"] == "PENDING"
        assert run["attempt"] == 2
        assert [attempt["status"] for attempt in run["attempts"]] == ["FAILED", "FAILED"]
        assert run["error"] is None
        assert run["error_reason"] is None
        assert run["end_time"] is None

        # The run id was used as a message id moments ago: the redrive uses its own.
        (queued,) = work_messages(settings)
        assert queued.subject == "pyoco.work.redrive"
        assert queued.msg_id == f"{run_id}:redrive:{seq}"
        assert queued.job.attempt_base == 2
        assert queued.job.snapshot_revision is None
        assert dataclasses.replace(queued.job, attempt_base=0, snapshot_revision=None) == (
            dataclasses.replace(dead.job, snapshot_revision=None)
        )

        assert page(client) == {"items": [], "next_cursor": None}
        assert_problem(client.post(f"/dlq/{seq}/redrive"), 404, "dead_letter_not_found")


def test_redrive_recreates_a_run_whose_snapshot_is_gone(
    gateway: Gateway, settings: Settings
) -> None:
    job = Job("lost-run", "main", "default", ("default",), {"x": 2}, 1.0, attempt_base=1)
    (seq,) = publish(
        settings, letter(DeadLetterReason.MAX_DELIVERIES_EXCEEDED, num_delivered=3, job=job)
    )
    with gateway.client() as client:
        response = client.post(f"/dlq/{seq}/redrive")
        assert response.status_code == 200, response.text
        run = client.get("/runs/lost-run").json()
    assert run["status"] == "PENDING"
    assert run["attempt"] == 4, "attempt_base 1 + 3 deliveries"
    assert run["params"] == {"x": 2}
    (queued,) = work_messages(settings)
    assert queued.job.attempt_base == 4


def test_redrive_of_a_record_without_a_job_is_409(gateway: Gateway, settings: Settings) -> None:
    (seq,) = publish(settings, letter(DeadLetterReason.INVALID_JOB, payload="garbage"))
    with gateway.client() as client:
        response = client.post(f"/dlq/{seq}/redrive")
        assert_problem(response, 409, "not_redrivable")
        assert "invalid_job" in response.json()["detail"]
        assert ids(page(client)) == [seq], "the record stays"
    assert work_messages(settings) == []


@pytest.mark.parametrize("status", [RunStatus.RUNNING, RunStatus.PENDING])
def test_redrive_of_a_run_that_has_not_ended_is_409(
    gateway: Gateway, settings: Settings, status: RunStatus
) -> None:
    with gateway.client() as client:
        run_id = submit(client)
        dead = dead_letter_of_failed_run(settings, run_id, attempts=1)
        snapshot, _ = stored_snapshot(settings, run_id)
        now = time.time()
        unfinished = (
            snapshot.claimed("w2", 2, now)
            if status is RunStatus.RUNNING
            else snapshot.requeued(now)
        )
        write_snapshot(settings, unfinished)
        before = stored_snapshot(settings, run_id)
        (seq,) = publish(settings, dead)

        response = client.post(f"/dlq/{seq}/redrive")
        assert_problem(response, 409, "not_redrivable")
        assert status.value in response.json()["detail"]
        assert ids(page(client)) == [seq], "the record stays"
    assert stored_snapshot(settings, run_id) == before, "the run is left alone"
    assert work_messages(settings) == []


@pytest.mark.parametrize("dead_letter_id", ["999", "0", "1" * 20])
def test_redrive_of_an_unknown_id_is_404(gateway: Gateway, dead_letter_id: str) -> None:
    with gateway.client() as client:
        response = client.post(f"/dlq/{dead_letter_id}/redrive")
    assert_problem(response, 404, "dead_letter_not_found")


@pytest.mark.parametrize("dead_letter_id", ["abc", "-1", "1" * 21])
def test_redrive_of_a_malformed_id_is_400(gateway: Gateway, dead_letter_id: str) -> None:
    with gateway.client() as client:
        assert_problem(client.post(f"/dlq/{dead_letter_id}/redrive"), 400)
