"""The work stream by sequence on a real nats-server: a delete says whether it removed the job.

A submit whose run could not be stored tells "withdrawn" (the run will not happen) from "already
gone" (a worker took it and stores the run) by this answer; JetStream answers the second with a
500 "no message found", which must not read as NATS being unavailable.

A publish whose answer never came may have queued the job: the error says so (`uncertain`), and
the same job published again is dropped as a duplicate, answered with the first one's sequence.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable

import pytest

from pyoco_server.domain.errors import BackendUnavailable
from pyoco_server.domain.settings import Settings
from pyoco_server.jetstream import NatsBackend
from pyoco_server.local.natsserver import NatsServer
from tests.support.samples import job


def test_a_delete_removes_a_job_once_then_finds_it_gone(settings: Settings) -> None:
    async def body() -> tuple[bool, bool, object]:
        backend = NatsBackend(settings, "test-work-stream")
        await backend.start()
        try:
            assert await backend.wait_ready(10)
            seq = await backend.jobs.publish(job("run-1"))
            first = await backend.work.delete(seq)
            second = await backend.work.delete(seq)
            return first, second, await backend.work.get(seq)
        finally:
            await backend.close()

    assert asyncio.run(body()) == (True, False, None)


def test_a_delete_of_a_sequence_never_used_finds_nothing(settings: Settings) -> None:
    async def body() -> bool:
        backend = NatsBackend(settings, "test-work-stream")
        await backend.start()
        try:
            assert await backend.wait_ready(10)
            await backend.jobs.publish(job("run-1"))
            return await backend.work.delete(10_000)
        finally:
            await backend.close()

    assert asyncio.run(body()) is False


def test_a_publish_unanswered_may_have_queued_and_a_second_one_is_dropped(
    settings: Settings, nats_server: NatsServer
) -> None:
    """The server frozen (SIGSTOP) while the job is published: no answer in time. Thawed, it
    takes the job it had been sent; the same job again gets the first one's sequence."""

    async def body() -> tuple[int, int, int]:
        quick = dataclasses.replace(settings, nats_request_timeout_sec=0.5)
        backend = NatsBackend(quick, "test-work-stream")
        await backend.start()
        try:
            assert await backend.wait_ready(10)
            first = await backend.jobs.publish(job("run-0"))
            nats_server.pause()  # returns once no thread of it can answer
            try:
                with pytest.raises(BackendUnavailable) as raised:
                    await backend.jobs.publish(job("run-1"))
            finally:
                nats_server.resume()
            assert raised.value.uncertain, raised.value
            js = backend.connection.js

            async def last_seq() -> int:
                return int((await js.stream_info(settings.work_stream)).state.last_seq)

            await eventually_async(last_seq, first + 1)  # thawed, it took the job
            again = await backend.jobs.publish(job("run-1"))
            after = await backend.jobs.publish(job("run-2"))
            return first, again, after
        finally:
            await backend.close()

    first, again, after = asyncio.run(body())
    assert (again, after) == (first + 1, first + 2)  # run-1 stored once, by the frozen publish


async def eventually_async(read: Callable[[], Awaitable[int]], expected: int) -> None:
    deadline = time.monotonic() + 10
    while (value := await read()) != expected:
        assert time.monotonic() < deadline, f"{value} != {expected}"
        await asyncio.sleep(0.02)


def test_a_publish_nobody_answers_is_certain_to_have_queued_nothing(settings: Settings) -> None:
    async def body() -> BackendUnavailable:
        quick = dataclasses.replace(settings, nats_request_timeout_sec=0.5)
        backend = NatsBackend(quick, "test-work-stream")
        await backend.start()
        try:
            assert await backend.wait_ready(10)
            await backend.connection.js.delete_stream(settings.work_stream)
            with pytest.raises(BackendUnavailable) as raised:
                await backend.jobs.publish(job("run-1"))
            return raised.value
        finally:
            await backend.close()

    assert not asyncio.run(body()).uncertain
