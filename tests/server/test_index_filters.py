"""The run index's label, run id prefix and tenant filters, and its memory per run."""

from __future__ import annotations

import gc
import random
import tracemalloc
import uuid

import orjson
import pytest

from pyoco_server.services.index import PREFIX_SORTED_MAX, Filters, RunIndex, Summary


def summary(i: int, **changes: object) -> Summary:
    fields: dict[str, object] = {
        "run_id": f"run-{i:05d}",
        "flow_name": "main",
        "tag": "default",
        "tags": ("default",),
        "status": "PENDING",
        "submitted_at": 1000.0 + i,
        "updated_at": 1000.0 + i,
        "start_time": None,
        "end_time": None,
        "worker_id": None,
        "attempt": 0,
        "error": None,
        "error_reason": None,
        "tenant_id": None,
        "workflow_yaml_sha256": None,
    }
    fields.update(changes)
    return Summary(**fields)  # type: ignore[arg-type]


def listed(index: RunIndex, filters: Filters, limit: int = 7) -> list[str]:
    """Every run id the filters list, page by page."""
    seen: list[str] = []
    cursor = None
    while True:
        page = index.page(filters, limit, cursor)
        seen += [item.run_id for item in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def newest_first(wanted: list[int]) -> list[str]:
    return [f"run-{i:05d}" for i in sorted(wanted, reverse=True)]


def test_a_label_lists_the_runs_carrying_it_combined_with_other_filters() -> None:
    index = RunIndex()
    for i in range(300):
        labels = ("default", "nightly") if i % 3 == 0 else ("default", f"team-{i % 2}")
        status = "COMPLETED" if i % 5 == 0 else "PENDING"
        index.put(summary(i, tags=labels, status=status), i + 1)
    assert listed(index, Filters(label="nightly")) == newest_first(
        [i for i in range(300) if i % 3 == 0]
    )
    both = Filters(label="nightly", status="COMPLETED")
    assert listed(index, both) == newest_first([i for i in range(300) if i % 15 == 0])
    assert listed(index, Filters(label="default")) == newest_first(list(range(300)))
    assert listed(index, Filters(label="nobody")) == []


def test_a_removed_run_leaves_its_label_lists() -> None:
    index = RunIndex()
    index.put(summary(1, tags=("rare",)), 1)
    index.remove("run-00001")
    assert listed(index, Filters(label="rare")) == []
    assert index.page(Filters(label="rare"), 10).next_cursor is None


@pytest.mark.parametrize("prefix", ["run-0001", "run-00", "run-", "r", "run-00123", "x"])
def test_run_id_prefix_lists_the_ids_that_start_with_it(prefix: str) -> None:
    index = RunIndex()
    for i in range(PREFIX_SORTED_MAX + 500):  # "run-" matches more than are sorted apart
        index.put(summary(i), i + 1)
    wanted = [i for i in range(PREFIX_SORTED_MAX + 500) if f"run-{i:05d}".startswith(prefix)]
    assert listed(index, Filters(run_id_prefix=prefix), limit=50) == newest_first(wanted)


def test_a_prefix_combines_with_the_other_filters_and_pages_without_repeats() -> None:
    index = RunIndex()
    for i in range(400):
        index.put(summary(i, status="FAILED" if i % 2 else "PENDING"), i + 1)
    filters = Filters(run_id_prefix="run-001", status="FAILED")
    assert listed(index, filters, limit=3) == newest_first([i for i in range(100, 200) if i % 2])


def test_a_unique_prefix_costs_no_walk_of_the_store() -> None:
    index = RunIndex(scan_budget=10)  # a page that walked the store would stop after 10
    rng = random.Random(5)
    run_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(5000)]
    for i, run_id in enumerate(run_ids):
        index.put(summary(i, run_id=run_id), i + 1)
    target = run_ids[1234]
    page = index.page(Filters(run_id_prefix=target[:10]), 50)
    assert [item.run_id for item in page.items] == [target]
    assert page.next_cursor is None


def test_runs_without_a_tenant_belong_to_the_default_tenant() -> None:
    index = RunIndex(default_tenant="legacy")
    index.put(summary(1, tenant_id=None), 1)
    index.put(summary(2, tenant_id="acme"), 2)
    index.put(summary(3, tenant_id="legacy"), 3)
    assert listed(index, Filters(tenant_id="legacy")) == ["run-00003", "run-00001"]
    assert listed(index, Filters(tenant_id="acme")) == ["run-00002"]
    index.put(summary(1, tenant_id=None, status="COMPLETED"), 4)  # a change keeps it listed
    assert listed(index, Filters(tenant_id="legacy", status="COMPLETED")) == ["run-00001"]
    assert index.get("run-00001").tenant_id is None  # type: ignore[union-attr]  # shown as stored


def test_a_status_change_moves_the_run_between_lists_only() -> None:
    index = RunIndex()
    index.put(summary(1, tags=("a", "b")), 1)
    index.put(summary(1, tags=("a", "b"), status="RUNNING"), 2)
    assert listed(index, Filters(status="PENDING")) == []
    assert listed(index, Filters(status="RUNNING", label="b")) == ["run-00001"]
    assert index.counts_by_status() == {"RUNNING": 1}


def test_summaries_show_rerun_of() -> None:
    data = {
        "run_id": "r2",
        "flow_name": "main",
        "tag": "default",
        "tags": ["default"],
        "status": "PENDING",
        "params": {},
        "submitted_at": 1.0,
        "updated_at": 1.0,
        "rerun_of": "r1",
    }
    shown = Summary.from_snapshot(data).to_dict()
    assert shown["rerun_of"] == "r1"
    assert "key" not in shown


def test_memory_per_indexed_run_stays_small() -> None:
    """Before issue 12 the index took about 1,280 bytes a run; now about 600 (with labels and
    the id list). The bound leaves room for the interpreter's variations."""
    count = 20_000
    raws = []
    for i in range(count):
        ended = i % 10 != 5
        snapshot = {
            "run_id": str(uuid.uuid4()),
            "flow_name": "main",
            "tag": "default",
            "tags": ["default", "nightly"] if i % 2 else ["default"],
            "status": "COMPLETED" if ended else "PENDING",
            "params": {"x": i},
            "submitted_at": 1.7e9 + i,
            "updated_at": 1.7e9 + i + 1.5,
            "start_time": 1.7e9 + i + 0.1 if ended else None,
            "end_time": 1.7e9 + i + 1.5 if ended else None,
            "worker_id": "w1" if ended else None,
            "attempt": 1,
            "tenant_id": "acme" if i % 3 else None,
            "workflow_yaml_sha256": "a" * 64 if i % 4 == 0 else None,
        }
        raws.append(orjson.dumps(snapshot))
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        index = RunIndex(default_tenant="default")
        for revision, raw in enumerate(raws, start=1):
            index.put(Summary.from_snapshot(orjson.loads(raw)), revision)
        gc.collect()
        per_run = (tracemalloc.get_traced_memory()[0] - before) / count
    finally:
        tracemalloc.stop()
    assert len(index) == count
    assert per_run < 800, f"{per_run:.0f} bytes per indexed run"
