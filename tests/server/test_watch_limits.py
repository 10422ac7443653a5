"""Watch streams are capped per gateway process and per API key (429 beyond), give their slot back
when their client goes, and a slow reader costs the gateway a bounded buffer, not one snapshot
per change."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats

from pyoco_server.domain.codec import encode_snapshot
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot
from tests.support.cli import create_key
from tests.support.nats import stored_snapshot
from tests.support.processes import Gateway, start_gateway
from tests.support.sse import events
from tests.support.usage import MIB, problem, rss_bytes
from tests.support.waiting import wait_until


def pending_run(client: httpx.Client) -> str:
    """A run that stays PENDING (no worker serves its tag)."""
    response = client.post("/runs", json={"flow_name": "main", "tag": "nobody"})
    assert response.status_code == 201, response.text
    return str(response.json()["run_id"])


@contextlib.contextmanager
def watching(client: httpx.Client, run_id: str, **headers: str) -> Iterator[httpx.Response]:
    """An open watch stream (its first event read), or the refusal."""
    with client.stream("GET", f"/runs/{run_id}/watch", headers=headers) as response:
        if response.status_code == 200:
            stream = events(response)  # kept: dropping the iterator would close the connection
            next(stream)
        else:
            response.read()
        yield response


def test_streams_over_the_process_cap_are_429_until_one_closes(
    settings: Settings, tmp_path: Path
) -> None:
    gateway = start_gateway(settings, tmp_path, PYOCO_WATCH_MAX_STREAMS="2")
    with gateway.client() as client, httpx.Client(base_url=gateway.url, timeout=10) as other:
        run_id = pending_run(client)
        with watching(client, run_id) as first, watching(other, run_id) as second:
            assert (first.status_code, second.status_code) == (200, 200)
            with httpx.Client(base_url=gateway.url, timeout=10) as third:
                refused = third.get(f"/runs/{run_id}/watch")
        # Both clients went away: their streams end and give their slots back.

        def opens() -> bool:
            with watching(client, run_id) as response:
                return response.status_code == 200

        wait_until(opens, timeout=10, what="a slot to be given back")

    body = problem(refused, 429, "too_many_watches")
    assert "PYOCO_WATCH_MAX_STREAMS" in str(body["detail"])
    assert refused.headers["retry-after"] == "5"


def test_streams_over_the_key_cap_are_429_for_that_key_only(
    settings: Settings, tmp_path: Path
) -> None:
    gateway = start_gateway(
        settings, tmp_path, PYOCO_HTTP_AUTH_MODE="api_key", PYOCO_WATCH_MAX_STREAMS_PER_KEY="1"
    )
    mine, theirs = create_key(settings, "acme", "user"), create_key(settings, "acme", "user")
    with (
        gateway.client(headers={"X-API-Key": mine}) as client,
        httpx.Client(base_url=gateway.url, timeout=10) as other,
    ):
        run_id = pending_run(client)
        with watching(client, run_id) as first:
            assert first.status_code == 200
            with watching(other, run_id, **{"X-API-Key": mine}) as again:
                refused = again
            with watching(other, run_id, **{"X-API-Key": theirs}) as another_key:
                assert another_key.status_code == 200

    body = problem(refused, 429, "too_many_watches")
    assert "PYOCO_WATCH_MAX_STREAMS_PER_KEY" in str(body["detail"])


REVISIONS = 120
BLOB = 200 * 1024


async def _write_revisions(settings: Settings, snapshot: RunSnapshot) -> None:
    run_id = snapshot.run_id
    nc = await nats.connect(settings.nats_url)
    try:
        kv = await nc.jetstream().key_value(settings.runs_kv_bucket)
        for n in range(1, REVISIONS + 1):
            changed = dataclasses.replace(snapshot, params={"blob": "x" * BLOB, "n": n})
            await kv.put(run_id, encode_snapshot(changed))
    finally:
        await nc.close()


def test_a_slow_reader_gets_the_latest_snapshot_and_costs_a_bounded_buffer(
    gateway: Gateway, settings: Settings
) -> None:
    # A small receive buffer, so that the kernel does not take up what the gateway sends.
    small_buffer = [(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)]
    transport = httpx.HTTPTransport(socket_options=small_buffer)
    with (
        gateway.client() as client,
        httpx.Client(base_url=gateway.url, timeout=30, transport=transport) as reader,
    ):
        run_id = pending_run(client)
        with reader.stream("GET", f"/runs/{run_id}/watch") as response:
            assert response.status_code == 200
            before = rss_bytes(gateway.process.pid)
            snapshot, _ = stored_snapshot(settings, run_id)
            asyncio.run(_write_revisions(settings, snapshot))  # while nothing is read
            wait_until(
                lambda: client.get(f"/runs/{run_id}").json()["params"].get("n") == REVISIONS,
                what="the last revision",
            )
            grown = rss_bytes(gateway.process.pid) - before
            received = []
            for event in events(response):
                if event.event == "snapshot":
                    received.append(event.data["snapshot"]["params"].get("n"))
                if received and received[-1] == REVISIONS:
                    break

    assert grown < 12 * MIB, f"the gateway grew by {grown / MIB:.1f} MiB for one slow reader"
    assert received[-1] == REVISIONS
    assert len(received) < REVISIONS / 2, "intermediate snapshots were all kept"
