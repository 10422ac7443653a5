"""A paused nats-server answers nothing from the moment `pause` returns.

`kill(SIGSTOP)` returns once the signal is queued; the kernel stops a multi-threaded process's
other threads only when the thread it woke gets a core. On a busy machine a request sent right
after the kill was once answered (a CI run of test_work_stream_nats), so `pause` waits until
every thread is stopped.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import nats
import nats.errors
import pytest

from pyoco_server.local.natsserver import (
    NatsServer,
    NatsServerError,
    thread_states,
    wait_stopped,
)


def test_every_thread_is_stopped_when_pause_returns_and_runs_again_after_resume(
    nats_server: NatsServer,
) -> None:
    pid = nats_server.pid
    assert pid is not None

    async def body() -> None:
        nc = await nats.connect(nats_server.url)
        try:
            # The server answers JetStream API requests itself: one sent while paused times out.
            assert (await nc.request("$JS.API.INFO", b"", timeout=5)).data
            for _ in range(20):
                nats_server.pause()
                assert set(thread_states(pid)) == {"T"}, thread_states(pid)
                with pytest.raises(nats.errors.TimeoutError):
                    await nc.request("$JS.API.INFO", b"", timeout=0.05)
                nats_server.resume()
                assert (await nc.request("$JS.API.INFO", b"", timeout=5)).data
        finally:
            await nc.close()

    asyncio.run(body())


def test_waiting_for_a_process_that_does_not_stop_fails_in_time() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with pytest.raises(NatsServerError, match=r"did not stop within 0\.05 s"):
            wait_stopped(sleeper.pid, 0.05)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_server_not_running_cannot_be_paused(tmp_path: Path) -> None:
    server = NatsServer(tmp_path / "nats")
    with pytest.raises(NatsServerError, match="not running"):
        server.pause()
    with pytest.raises(NatsServerError, match="not running"):
        server.resume()
