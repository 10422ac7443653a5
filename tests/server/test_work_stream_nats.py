"""The work stream by sequence on a real nats-server: a delete says whether it removed the job.

A submit whose run could not be stored tells "withdrawn" (the run will not happen) from "already
gone" (a worker took it and stores the run) by this answer; JetStream answers the second with a
500 "no message found", which must not read as NATS being unavailable.
"""

from __future__ import annotations

import asyncio

from pyoco_server.domain.settings import Settings
from pyoco_server.jetstream import NatsBackend
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
