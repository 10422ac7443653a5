"""POST /dlq/{dead_letter_id}/redrive against the real gateway and NATS.

The tests stand in for workers: they publish dead letters straight to `pyoco.dlq.<tag>`, write
run snapshots into the `pyoco_runs` bucket, and read the work stream, all with nats-py
(tests/support/nats.py). Listing is in test_dlq_api.py.
"""

from __future__ import annotations

import dataclasses
import time

import httpx
import pytest

from pyoco_server.domain.records import DeadLetter, DeadLetterReason, Job
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import FailureReason, RunStatus
from tests.support.dlq import assert_problem, ids, letter, page
from tests.support.nats import (
    delete_messages,
    publish_dead_letters,
    stored_snapshot,
    work_messages,
    write_snapshot,
)
from tests.support.processes import Gateway


def submit(client: httpx.Client, tag: str = "redrive", flow_name: str = "nowhere") -> str:
    response = client.post("/runs", json={"flow_name": flow_name, "tag": tag})
    assert response.status_code == 201, response.text
    return str(response.json()["run_id"])


def dead_letter_of_failed_run(settings: Settings, run_id: str, attempts: int) -> DeadLetter:
    """Act as the worker that failed `run_id` `attempts` times with flow_not_found: take its
    job off the work stream, store the FAILED snapshot, and return the dead letter to publish."""
    (message,) = [m for m in work_messages(settings) if m.job.run_id == run_id]
    delete_messages(settings.nats_url, settings.work_stream, message.seq)
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


def test_redrive_requeues_the_run_with_its_attempts(gateway: Gateway, settings: Settings) -> None:
    with gateway.client() as client:
        run_id = submit(client)
        dead = dead_letter_of_failed_run(settings, run_id, attempts=2)
        (seq,) = publish_dead_letters(settings, dead)
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
    (seq,) = publish_dead_letters(
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
    (seq,) = publish_dead_letters(settings, letter(DeadLetterReason.INVALID_JOB, payload="garbage"))
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
        (seq,) = publish_dead_letters(settings, dead)

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
