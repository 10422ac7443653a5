"""A worker frozen for longer than AckWait (SIGSTOP, as a paused VM or a swapped-out host) while
another worker takes its run over: the frozen worker's run stops itself before the job is
delivered again, so the task's side effect happens once; thawed, the worker hands nothing back
that is no longer its own, logs how long its event loop was held up, and goes on working."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.support.effects import effect_counts, submit_effect, wait_all_ended
from tests.support.processes import Gateway, WorkerFactory
from tests.support.runs import status
from tests.support.waiting import wait_until

pytestmark = pytest.mark.serial

ACK_WAIT = {"PYOCO_CONSUMER_ACK_WAIT_SEC": "3"}


def test_a_frozen_workers_run_stops_itself_and_runs_once_elsewhere(
    gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    effects = tmp_path / "effects"
    effects.mkdir()
    frozen = start_worker(worker_id="frozen", env=ACK_WAIT)
    with gateway.client() as client:
        run_id = submit_effect(client, effects, "run", seconds=6.0).json()["run_id"]
        wait_until(lambda: status(client, run_id)["status"] == "RUNNING", timeout=30)
        assert status(client, run_id)["worker_id"] == "frozen"

        frozen.signal(signal.SIGSTOP)
        stopped_at = time.monotonic()
        try:
            start_worker(worker_id="other", env=ACK_WAIT)
            wait_until(
                lambda: status(client, run_id)["worker_id"] == "other",
                timeout=30,
                what="the other worker to take the run over",
            )
            taken_over = time.monotonic() - stopped_at
            (ended,) = wait_all_ended(client, [run_id], timeout=60).values()
        finally:
            frozen.signal(signal.SIGCONT)

        assert ended["status"] == "COMPLETED", ended
        assert [attempt["worker_id"] for attempt in ended["attempts"]] == ["frozen", "other"]
        # Thawed, the frozen worker finds its run stopped by its lease and leaves the job alone.
        wait_until(
            lambda: "handed back" in frozen.log() or "newer attempt owns it" in frozen.log(),
            timeout=30,
            what="the thawed worker to settle its stopped run",
        )
        assert "a newer attempt owns it" in frozen.log(), frozen.log()
        wait_until(  # and its log says why its timers fired late
            lambda: "worker frozen's event loop ran nothing for" in frozen.log(),
            timeout=10,
            what="the thawed worker to report the time it was stopped",
        )
        again = submit_effect(client, effects, "after", seconds=0.0).json()["run_id"]
        assert wait_all_ended(client, [again])[again]["status"] == "COMPLETED"
        assert status(client, run_id)["status"] == "COMPLETED"
    assert effect_counts(effects) == {"run": 1, "after": 1}
    print(f"\nfrozen worker: run taken over {taken_over:.1f}s after SIGSTOP; effect once")
