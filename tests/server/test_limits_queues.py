"""The work stream and the runs bucket are bounded (discard new): a submit that meets a full one
is a 503 with Retry-After and leaves nothing behind; the limits reach existing resources too."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx
import nats
import pytest
from nats.js.api import DiscardPolicy, StreamConfig

from pyoco_server.domain.settings import Settings
from pyoco_server.jetstream._resources import ensure_resources, work_stream_config
from tests.support.nats import bucket_keys, work_messages
from tests.support.processes import start_gateway
from tests.support.usage import problem


def submit_until_refused(client: httpx.Client, attempts: int = 200) -> tuple[int, httpx.Response]:
    """Submit runs until one is refused: how many were accepted, and the refusal."""
    for accepted in range(attempts):
        response = client.post("/runs", json={"flow_name": "main", "params": {"n": accepted}})
        if response.status_code != 201:
            return accepted, response
    raise AssertionError(f"{attempts} submits were all accepted")


def test_a_full_work_queue_is_503_and_stores_nothing(settings: Settings, tmp_path: Path) -> None:
    bounded = settings.replace(work_max_bytes=8 * 1024)
    gateway = start_gateway(bounded, tmp_path)
    with gateway.client() as client:
        accepted, refused = submit_until_refused(client)

    body = problem(refused, 503, "queue_full")
    assert "PYOCO_WORK_MAX_BYTES" in str(body["detail"])
    assert int(refused.headers["retry-after"]) >= 1
    assert accepted >= 3
    assert len(work_messages(settings)) == accepted
    assert len(bucket_keys(settings.nats_url)) == accepted


def test_a_full_runs_bucket_is_503_and_leaves_no_job(settings: Settings, tmp_path: Path) -> None:
    bounded = settings.replace(runs_kv_max_bytes=16 * 1024)
    gateway = start_gateway(bounded, tmp_path)
    with gateway.client() as client:
        accepted, refused = submit_until_refused(client)

    # `queue_full` once the run store reports a full bucket as such, `backend_unavailable` until.
    assert refused.json()["reason"] in ("queue_full", "backend_unavailable")
    problem(refused, 503, refused.json()["reason"])
    assert int(refused.headers["retry-after"]) >= 1
    assert accepted >= 3
    assert len(bucket_keys(settings.nats_url)) == accepted
    assert len(work_messages(settings)) == accepted


async def _reconcile(settings: Settings, bounded: Settings) -> tuple[StreamConfig, StreamConfig]:
    nc = await nats.connect(settings.nats_url)
    try:
        js = nc.jetstream()
        # As an older version created it: unbounded, and dropping the oldest jobs when full.
        old = dataclasses.replace(
            work_stream_config(settings), max_bytes=None, max_age=None, discard=DiscardPolicy.OLD
        )
        await js.add_stream(old)
        await ensure_resources(js, settings)
        await ensure_resources(js, bounded)
        work = (await js.stream_info(settings.work_stream)).config
        runs = (await js.stream_info(f"KV_{settings.runs_kv_bucket}")).config
        return work, runs
    finally:
        await nc.close()


def test_the_limits_are_applied_to_existing_resources(settings: Settings) -> None:
    bounded = settings.replace(
        work_max_bytes=1_000_000, work_max_age_sec=3600.0, runs_kv_max_bytes=2_000_000
    )

    work, runs = asyncio.run(_reconcile(settings, bounded))

    assert (work.max_bytes, work.max_age, work.discard) == (
        1_000_000,
        pytest.approx(3600.0),
        DiscardPolicy.NEW,
    )
    assert (runs.max_bytes, runs.discard) == (2_000_000, DiscardPolicy.NEW)
