"""The last hour's throughput and latency (services/throughput.py), on a fake clock."""

from __future__ import annotations

from pyoco_server.services.index import Summary
from pyoco_server.services.throughput import BUCKETS, INTERVAL_SEC, SAMPLE_SIZE, Throughput


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def run(status: str, submitted: float, ended: float | None = None) -> Summary:
    return Summary.from_snapshot(
        {
            "run_id": f"r{submitted}-{status}",
            "flow_name": "main",
            "tag": "default",
            "status": status,
            "submitted_at": submitted,
            "updated_at": ended or submitted,
            "end_time": ended,
        }
    )


def test_submits_and_endings_land_in_their_buckets_with_percentiles() -> None:
    clock = Clock(1_000_000.0)
    history = Throughput(clock=clock, seed=1)
    history.submitted("default")
    history.submitted("default")
    for latency in range(1, 101):  # 1..100 ms
        before = run("RUNNING", clock.now - latency / 1000)
        history.changed(before, run("COMPLETED", clock.now - latency / 1000, clock.now))
    history.changed(run("RUNNING", clock.now - 1), run("FAILED", clock.now - 1, clock.now))
    history.changed(None, run("CANCELLED", clock.now - 2, clock.now))

    points = history.history()["points"]
    assert len(points) == BUCKETS
    assert history.history()["interval_sec"] == INTERVAL_SEC
    last = points[-1]
    assert last["ts"] == 1_000_000.0
    assert (last["submitted"], last["completed"], last["failed"], last["cancelled"]) == (
        2,
        100,
        1,
        1,
    )
    assert last["latency_p50_ms"] == 51.0
    assert last["latency_p95_ms"] == 97.0  # nearest rank: the 97th of 102
    assert all(point["submitted"] == 0 for point in points[:-1])
    assert [p["ts"] for p in points] == sorted(p["ts"] for p in points)


def test_only_the_change_that_ends_a_run_counts() -> None:
    clock = Clock(5_000.0)
    history = Throughput(clock=clock)
    ended = run("COMPLETED", 4_999.0, 5_000.0)
    history.changed(run("RUNNING", 4_999.0), ended)
    history.changed(ended, ended)  # a later write of an ended run
    history.changed(run("PENDING", 4_999.0), run("RUNNING", 4_999.0))
    assert history.history()["points"][-1]["completed"] == 1


def test_runs_seen_while_the_index_loads_are_not_counted() -> None:
    loaded = False
    history = Throughput(lambda: loaded, clock=Clock(100.0))
    history.changed(None, run("COMPLETED", 10.0, 100.0))
    assert history.history()["points"][-1]["completed"] == 0
    loaded = True
    history.changed(None, run("COMPLETED", 10.0, 100.0))
    assert history.history()["points"][-1]["completed"] == 1


def test_old_buckets_roll_off_and_samples_stay_bounded() -> None:
    clock = Clock(10_000.0)
    history = Throughput(clock=clock, seed=3)
    history.submitted()
    clock.now += INTERVAL_SEC * BUCKETS  # an hour later
    assert sum(point["submitted"] for point in history.history()["points"]) == 0
    for index in range(SAMPLE_SIZE * 4):
        history.changed(None, run("COMPLETED", clock.now - index / 1000, clock.now))
    bucket = history._ring[int(clock.now // INTERVAL_SEC) % BUCKETS]
    assert bucket is not None
    assert len(bucket.sample) == SAMPLE_SIZE
    assert bucket.completed == SAMPLE_SIZE * 4
