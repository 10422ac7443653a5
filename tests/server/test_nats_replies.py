"""Requests whose replies go straight to their waiters (jetstream/_replies.py), on a real NATS.

`Replies` stands in for its inbox subscription's queue inside nats-py, so these checks pin both
what it promises (nats-py's errors, one reply per request, nothing left behind) and the nats-py
internals it relies on (the queue's `put_nowait`, the pending byte count, a drain).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import nats
import nats.errors
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot
from pyoco_server.jetstream import NatsBackend
from pyoco_server.jetstream._replies import Replies, direct_get
from pyoco_server.local.natsserver import NatsServer
from tests.support.nats import on_backend
from tests.support.samples import job


def on_nats(url: str, body: Callable[[Client, Replies], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        nc = await nats.connect(url)
        try:
            return await body(nc, Replies(nc))
        finally:
            await nc.close()

    return asyncio.run(run())


async def echo(nc: Client, subject: str = "echo") -> None:
    async def answer(msg: Msg) -> None:
        await msg.respond(b"re:" + msg.data)

    await nc.subscribe(subject, cb=answer)


def test_each_request_gets_its_own_reply(nats_server: NatsServer) -> None:
    async def body(nc: Client, replies: Replies) -> None:
        await echo(nc)
        answers = await asyncio.gather(
            *(replies.request("echo", str(n).encode(), 5) for n in range(200))
        )
        assert [msg.data for msg in answers] == [f"re:{n}".encode() for n in range(200)]
        assert replies._waiting == {}
        # nats-py counts each reply as pending in the queue; `put_nowait` takes it off again,
        # or nats-py would call the inbox a slow consumer and drop replies once 64 MiB passed.
        assert replies._subscription is not None
        assert replies._subscription._pending_size == 0
        assert len(nc._subs) == 2  # the echo's and one inbox, though 200 requests came first

    on_nats(nats_server.url, body)


def test_headers_go_with_the_request(nats_server: NatsServer) -> None:
    async def body(nc: Client, replies: Replies) -> None:
        async def answer(msg: Msg) -> None:
            await msg.respond((msg.headers or {}).get("X-Pyoco", "none").encode())

        await nc.subscribe("headers", cb=answer)
        msg = await replies.request("headers", b"", 5, {"X-Pyoco": "yes"})
        assert msg.data == b"yes"

    on_nats(nats_server.url, body)


def test_nobody_listening_is_no_responders(nats_server: NatsServer) -> None:
    async def body(nc: Client, replies: Replies) -> None:
        with pytest.raises(nats.errors.NoRespondersError):
            await replies.request("nobody.here", b"x", 5)
        assert replies._waiting == {}

    on_nats(nats_server.url, body)


def test_an_unanswered_request_times_out_and_a_late_reply_is_dropped(
    nats_server: NatsServer,
) -> None:
    async def body(nc: Client, replies: Replies) -> None:
        held: list[Msg] = []

        async def hold(msg: Msg) -> None:
            held.append(msg)

        await nc.subscribe("slow", cb=hold)
        started = time.monotonic()
        with pytest.raises(nats.errors.TimeoutError):
            await replies.request("slow", b"x", 0.2)
        assert 0.15 < time.monotonic() - started < 3
        assert replies._waiting == {}
        await held[0].respond(b"too late")
        await echo(nc)
        assert (await replies.request("echo", b"next", 5)).data == b"re:next"

    on_nats(nats_server.url, body)


def test_a_cancelled_request_leaves_no_waiter(nats_server: NatsServer) -> None:
    async def body(nc: Client, replies: Replies) -> None:
        async def ignore(_msg: Msg) -> None:
            pass

        await nc.subscribe("silent", cb=ignore)
        request = asyncio.create_task(replies.request("silent", b"x", 30))
        deadline = time.monotonic() + 10
        while not replies._waiting:  # the waiter shows once the request is sent
            assert time.monotonic() < deadline, "the request was never sent"
            await asyncio.sleep(0.01)
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        assert replies._waiting == {}

    on_nats(nats_server.url, body)


def test_a_draining_connection_refuses_and_drains(nats_server: NatsServer) -> None:
    async def body(nc: Client, replies: Replies) -> None:
        await echo(nc)
        await replies.request("echo", b"x", 5)
        await asyncio.wait_for(nc.drain(), 10)  # waits on the stand-in queue's `join`
        assert nc.is_closed
        with pytest.raises(nats.errors.ConnectionClosedError):
            await replies.request("echo", b"x", 5)

    on_nats(nats_server.url, body)


def test_a_direct_get_reads_what_nats_pys_get_reads(settings: Settings) -> None:
    """Stored, deleted, purged and never stored keys, against `KeyValue.get`."""

    async def body(backend: NatsBackend) -> None:
        connection = backend.connection
        kv = await connection.key_value(settings.runs_kv_bucket)
        assert kv._direct  # one replica: the store's reads go through `direct_get`
        await kv.put("kept", b"one")
        kept = await kv.put("kept", b"two")
        await kv.put("deleted", b"x")
        await kv.delete("deleted")
        await kv.put("purged", b"x")
        await kv.purge("purged")

        async def read(key: str) -> tuple[bytes | None, int]:
            subject = f"$KV.{settings.runs_kv_bucket}.{key}"
            return await direct_get(connection.replies, kv._js._prefix, kv._stream, subject, 5)

        assert await read("kept") == (b"two", kept)
        assert (await kv.get("kept")).value == b"two"
        for gone in ("deleted", "purged", "never-stored"):
            assert await read(gone) == (None, 0)
            with pytest.raises(nats.js.errors.KeyNotFoundError):
                await kv.get(gone)

    on_backend(settings, body)


def test_the_run_store_reads_through_direct_gets_and_nats_py_alike(settings: Settings) -> None:
    """A run id (always a plain key) is read by `direct_get`; any other key by nats-py."""

    async def body(backend: NatsBackend) -> None:
        run_id = "3f6184da-6596-4c8d-8700-8eea729012f6"
        pending = RunSnapshot.pending(job(run_id), job_seq=1)
        revision = await backend.runs.create(pending)
        stored = await backend.runs.get(run_id)
        assert stored is not None
        assert (stored.snapshot, stored.revision) == (pending, revision)
        await backend.runs.delete(run_id)
        assert await backend.runs.get(run_id) is None
        assert await backend.runs.get("not.a.run") is None  # through nats-py

    on_backend(settings, body)
