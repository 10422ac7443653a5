"""NATS restarted (file storage kept) in the middle of 500 submitted runs: the gateway answers
503 with Retry-After while NATS is away and recovers by itself, the worker too; every accepted
run ends once and every task's side effect happens once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from pyoco_server.local.natsserver import NatsServer
from tests.support.clients import Burst, submit_burst
from tests.support.effects import all_runs, effect_counts, submit_effect, wait_all_ended
from tests.support.processes import Gateway, WorkerFactory
from tests.support.waiting import wait_until

pytestmark = pytest.mark.serial

RUNS = 500
STOP_AT = 150
OUTAGE_SEC = 3.0


@pytest.fixture
def nats_server(restartable_nats_server: NatsServer) -> NatsServer:
    """The deployment's NATS is one that can be restarted where clients look for it."""
    return restartable_nats_server


def test_nats_restarted_under_load_loses_and_duplicates_nothing(
    nats_server: NatsServer, gateway: Gateway, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    effects = tmp_path / "effects"
    effects.mkdir()
    start_worker()
    restarted_at: list[float] = []
    outage: list[httpx.Response] = []
    accepted = [0]
    results: list[object] = []

    def burst() -> None:
        try:
            results.append(
                submit_burst(
                    lambda: gateway.url,
                    effects,
                    RUNS,
                    threads=16,
                    on_accepted=lambda n: accepted.__setitem__(0, max(accepted[0], n)),
                )
            )
        except BaseException as exc:  # shown by the test, not lost in the thread
            results.append(exc)

    clients = threading.Thread(target=burst)
    clients.start()
    # NATS is stopped and started from this thread: a server started from a thread that ends
    # would get its parent-death signal with that thread.
    wait_until(lambda: accepted[0] >= STOP_AT, timeout=120, what=f"{STOP_AT} runs accepted")
    nats_server.stop()
    with gateway.client() as client:
        wait_until(
            lambda: (
                outage.append(submit_effect(client, effects, "outage-probe"))
                or outage[-1].status_code == 503
            ),
            timeout=30,
            what="the gateway to notice NATS is gone",
        )
    threading.Event().wait(OUTAGE_SEC)  # the fault itself: NATS stays away, under load
    nats_server.start()
    restarted_at.append(time.monotonic())
    clients.join(240)
    (burst_result,) = results
    assert not isinstance(burst_result, BaseException), burst_result
    assert isinstance(burst_result, Burst)
    burst = burst_result

    assert outage[-1].status_code == 503
    assert outage[-1].headers["content-type"].startswith("application/problem+json")
    assert "Retry-After" in outage[-1].headers
    first_after = min(at for at in burst.accepted_at.values() if at > restarted_at[0])
    recovered_in = first_after - restarted_at[0]
    with gateway.client() as client:
        ended = wait_all_ended(client, burst.run_ids.values(), timeout=180)
        listed = all_runs(client)
    assert len(burst.run_ids) == RUNS
    assert {snapshot["status"] for snapshot in ended.values()} == {"COMPLETED"}
    probes = {response.json()["run_id"] for response in outage if response.status_code == 201}
    listed_ids = sorted(run["run_id"] for run in listed if run["run_id"] not in probes)
    assert listed_ids == sorted(burst.run_ids.values())
    counts = effect_counts(effects)
    counts.pop("outage-probe", None)  # refused while NATS was away: never ran
    assert counts == dict.fromkeys(burst.run_ids, 1)
    print(  # the figures docs/reliability.md reports
        f"\n{RUNS} accepted, {len(ended)} completed, "
        f"{sum(count - 1 for count in counts.values())} repeated effects, "
        f"{burst.statuses.count(503)} answers 503, {burst.statuses.count(-1)} without answer, "
        f"first run accepted {recovered_in:.2f}s after NATS came back"
    )
