"""Two gateways connected to different nodes of the cluster serve the same runs: one's
submits are listed by the other, a cursor from one pages on at the other, a watch on one
sees the runs the other accepted run to their end, and a Last-Event-ID from one resumes at
the other."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pyoco_server.domain.settings import Settings
from pyoco_server.local.cluster import NatsCluster
from tests.support.effects import submit_effect, wait_all_ended
from tests.support.processes import WorkerFactory, start_gateway
from tests.support.sse import events
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.serial]

RUNS = 30


def listed(client: httpx.Client, **params: object) -> dict[str, object]:
    """A page of GET /runs (once the gateway's index has loaded)."""
    response = wait_until(
        lambda: (r := client.get("/runs", params=params)).status_code == 200 and r,
        timeout=30,
        what="a page of runs",
    )
    assert isinstance(response, httpx.Response)
    page: dict[str, object] = response.json()
    return page


def test_two_gateways_on_two_nodes_serve_the_same_runs_cursors_and_watches(
    cluster: NatsCluster, settings: Settings, start_worker: WorkerFactory, tmp_path: Path
) -> None:
    effects = tmp_path / "effects"
    effects.mkdir()
    first = start_gateway(settings.replace(nats_url=cluster.urls[0]), tmp_path)
    second = start_gateway(settings.replace(nats_url=cluster.urls[1]), tmp_path)
    start_worker(env={"PYOCO_NATS_URL": cluster.urls[2]})
    with first.client(timeout=15) as one, second.client(timeout=15) as other:
        run_ids = []
        for index in range(RUNS):
            response = submit_effect(one, effects, f"m{index}")
            assert response.status_code == 201, response.text
            run_ids.append(response.json()["run_id"])
        with other.stream("GET", f"/runs/{run_ids[-1]}/watch") as stream:
            statuses = []
            last_id = None
            for event in events(stream):
                if event.event == "snapshot":
                    statuses.append(event.data["snapshot"]["status"])
                    last_id = event.id
                    if statuses[-1] == "COMPLETED":
                        break
        assert statuses[-1] == "COMPLETED", statuses
        ended = wait_all_ended(other, run_ids)
        assert {snapshot["status"] for snapshot in ended.values()} == {"COMPLETED"}

        # Both list the same runs in the same order, and a cursor from one pages on at the other.
        wait_until(
            lambda: listed(one, limit=RUNS)["items"] == listed(other, limit=RUNS)["items"],
            timeout=30,
            what="both gateways to list the same runs",
        )
        page = listed(one, limit=10)
        rest = listed(other, limit=RUNS, cursor=page["next_cursor"])
        ids = [run["run_id"] for run in page["items"] + rest["items"]]  # type: ignore[operator]
        assert ids == list(reversed(run_ids))

        # A watch resumed at the other gateway with the first one's Last-Event-ID goes on
        # from there: the run has ended, so it gets no snapshot again, only the end.
        assert last_id is not None
        with one.stream(
            "GET", f"/runs/{run_ids[-1]}/watch", headers={"Last-Event-ID": last_id}
        ) as stream:
            resumed = [event.event for event in events(stream)]
        assert "snapshot" not in resumed, resumed
