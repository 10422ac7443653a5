"""A job whose workers keep dying runs out of deliveries, and its run ends FAILED
`max_deliveries_exceeded`, dead-lettered, without any JetStream advisory: the worker that gets
the extra delivery ends it (an advisory, sent once, may be lost)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import nats
import pytest

from pyoco_server.domain.settings import Settings
from pyoco_server.domain.subjects import Subjects
from tests.support.flows import flow_yaml
from tests.support.nats import dead_letters
from tests.support.processes import Gateway, WorkerFactory
from tests.support.runs import status, submit
from tests.support.waiting import wait_until

pytestmark = pytest.mark.serial

LIMITS = {"PYOCO_CONSUMER_MAX_DELIVER": "2", "PYOCO_CONSUMER_ACK_WAIT_SEC": "2"}


class Advisories:
    """Every max-deliveries advisory NATS sends while the test runs (none are expected)."""

    def __init__(self, settings: Settings) -> None:
        self.seen: list[bytes] = []
        self._settings = settings
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._listen(),), daemon=True)

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(10)

    def stop(self) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    async def _listen(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        nc = await nats.connect(self._settings.nats_url)

        async def seen(msg: nats.aio.msg.Msg) -> None:
            self.seen.append(msg.data)

        await nc.subscribe(Subjects.from_settings(self._settings).max_deliveries_all, cb=seen)
        await nc.flush()
        self._ready.set()
        await self._stop.wait()
        await nc.close()


@pytest.fixture
def advisories(settings: Settings) -> Iterator[Advisories]:
    listener = Advisories(settings)
    listener.start()
    yield listener
    listener.stop()


def test_a_job_out_of_deliveries_ends_its_run_without_an_advisory(
    gateway: Gateway,
    start_worker: WorkerFactory,
    settings: Settings,
    advisories: Advisories,
) -> None:
    with gateway.client() as client:
        run_id = submit(client, flow_yaml("kill_worker"), params='{"x": 1}')
        for number in (1, 2):  # each delivery kills the worker that runs it
            worker = start_worker(worker_id=f"doomed-{number}", env=LIMITS)
            assert worker.wait(timeout=60) != 0
        start_worker(worker_id="survivor", env=LIMITS)
        wait_until(
            lambda: status(client, run_id)["status"] == "FAILED", timeout=60, what="the run to end"
        )
        ended = status(client, run_id)
    assert ended["error_reason"] == "max_deliveries_exceeded", ended
    letters = wait_until(lambda: dead_letters(settings.nats_url), timeout=30)
    assert isinstance(letters, list)
    assert [(letter["reason"], letter["run_id"]) for letter in letters] == [
        ("max_deliveries_exceeded", run_id)
    ]
    assert advisories.seen == []
