"""The gateway SIGKILLed in the middle of a burst of submits with Idempotency-Keys, the clients
retrying against its replacement: every key gets one run, every run ends once, every task's
side effect happens once, and no run is left without its job."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytest

from pyoco_server.domain.settings import Settings
from tests.support.clients import submit_burst
from tests.support.effects import all_runs, effect_counts, wait_all_ended
from tests.support.processes import Gateway, WorkerFactory, start_gateway

pytestmark = pytest.mark.serial

RUNS = 120
KILL_AT = 40


def test_a_gateway_killed_mid_burst_loses_and_duplicates_nothing(
    gateway: Gateway, settings: Settings, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    effects = tmp_path / "effects"
    effects.mkdir()
    start_worker()
    current = [gateway.url]
    killed = threading.Event()

    def on_accepted(accepted: int) -> None:
        if accepted >= KILL_AT and not killed.is_set():
            killed.set()
            gateway.process.signal(signal.SIGKILL)
            current[0] = start_gateway(settings, tmp_path).url

    burst = submit_burst(lambda: current[0], effects, RUNS, on_accepted=on_accepted)

    assert killed.is_set()
    assert -1 in burst.statuses, "no request met the killed gateway"
    assert len(burst.run_ids) == RUNS
    assert len(set(burst.run_ids.values())) == RUNS
    replacement = Gateway(current[0], gateway.process)
    with replacement.client() as client:
        ended = wait_all_ended(client, burst.run_ids.values())
        listed = all_runs(client)
    assert {snapshot["status"] for snapshot in ended.values()} == {"COMPLETED"}
    assert sorted(run["run_id"] for run in listed) == sorted(burst.run_ids.values())
    counts = effect_counts(effects)
    assert counts == dict.fromkeys(burst.run_ids, 1)
    print(  # the figures docs/reliability.md reports
        f"\n{RUNS} keys, {len(set(burst.run_ids.values()))} runs, {len(ended)} completed, "
        f"{sum(count - 1 for count in counts.values())} repeated effects; answers: "
        f"{burst.statuses.count(-1)} none (gateway killed), {burst.statuses.count(409)} 409 "
        f"(key in progress), {burst.statuses.count(200)} replays"
    )
