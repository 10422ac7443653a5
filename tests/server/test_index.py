"""The run index: order, filters, cursors that never skip or repeat, O(limit) pages."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from pyoco_server.domain.errors import InvalidInput
from pyoco_server.services.index import (
    CREATED_NOTES,
    STATUS_PAGE,
    Filters,
    RunIndex,
    Summary,
    decode_cursor,
    encode_cursor,
)


def summary(i: int, **changes: object) -> Summary:
    fields: dict[str, object] = {
        "run_id": f"run-{i:05d}",
        "flow_name": "main" if i % 2 else "other",
        "tag": f"t{i % 3}",
        "tags": (f"t{i % 3}",),
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


def filled(count: int) -> RunIndex:
    index = RunIndex()
    for i in range(count):
        index.put(summary(i), revision=i + 1)
    return index


def run_ids(index: RunIndex, filters: Filters, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = index.page(filters, limit, cursor)
        seen += [item.run_id for item in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_empty_index_gives_an_empty_page_without_cursor() -> None:
    page = RunIndex().page(Filters(), 50)
    assert page.items == []
    assert page.next_cursor is None


def test_newest_submitted_first_and_paging_covers_everything_once() -> None:
    index = filled(500)
    listed = run_ids(index, Filters(), 37)
    assert listed == [f"run-{i:05d}" for i in reversed(range(500))]


def test_state_changes_between_pages_neither_skip_nor_repeat() -> None:
    index = filled(500)
    rng = random.Random(7)
    seen: list[str] = []
    cursor = None
    revision = 10_000
    while True:
        page = index.page(Filters(), 37, cursor)
        seen += [item.run_id for item in page.items]
        for i in rng.sample(range(500), 10):  # runs change state (and updated_at) meanwhile
            revision += 1
            index.put(summary(i, status="COMPLETED", updated_at=5000.0 + revision), revision)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(f"run-{i:05d}" for i in range(500))
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(status="COMPLETED"), lambda i: i % 5 == 0),
        (Filters(flow_name="main"), lambda i: i % 2 == 1),
        (Filters(tag="t1"), lambda i: i % 3 == 1),
        (Filters(flow_name="main", tag="t1"), lambda i: i % 2 == 1 and i % 3 == 1),
        (Filters(status="COMPLETED", flow_name="main"), lambda i: i % 5 == 0 and i % 2 == 1),
        (Filters(updated_after=1150.0), lambda i: 1000 + i > 1150),
        (Filters(tenant_id="acme"), lambda i: i % 4 == 0),
        (Filters(status="FAILED"), lambda i: False),
    ],
)
def test_filters(filters: Filters, expected: object) -> None:
    index = RunIndex()
    for i in range(200):
        index.put(
            summary(
                i,
                status="COMPLETED" if i % 5 == 0 else "PENDING",
                tenant_id="acme" if i % 4 == 0 else "other",
            ),
            i + 1,
        )
    wanted = [f"run-{i:05d}" for i in reversed(range(200)) if expected(i)]  # type: ignore[operator]
    assert run_ids(index, filters, 7) == wanted


def test_a_rare_updated_after_match_stops_at_the_scan_budget_with_a_cursor() -> None:
    index = RunIndex(scan_budget=100)
    for i in range(1000):
        index.put(summary(i, updated_at=9999.0 if i == 3 else 1.0), i + 1)
    first = index.page(Filters(updated_after=5000.0), 10)
    assert first.items == []
    assert first.next_cursor is not None
    assert run_ids(index, Filters(updated_after=5000.0), 10) == ["run-00003"]


def test_removal_and_stale_revisions() -> None:
    index = filled(10)
    index.put(summary(3, status="RUNNING"), revision=100)
    index.put(summary(3, status="PENDING"), revision=50)  # older: ignored
    assert index.get("run-00003").status == "RUNNING"  # type: ignore[union-attr]
    assert index.counts_by_status() == {"PENDING": 9, "RUNNING": 1}
    index.remove("run-00003")
    assert index.get("run-00003") is None
    assert len(index) == 9
    assert "run-00003" not in run_ids(index, Filters(), 4)


def test_cursor_round_trip_and_foreign_cursors() -> None:
    assert decode_cursor(encode_cursor((-12.5, "abc"))) == (-12.5, "abc")
    for bad in ("!!!", "e30", "WzEsMl0", "bm90IGpzb24"):
        with pytest.raises(InvalidInput, match="cursor"):
            decode_cursor(bad)


def test_the_changes_of_a_run_before_a_commit_are_one_write_and_reads_see_them(
    tmp_path: Path,
) -> None:
    index = RunIndex(path=str(tmp_path / "runs.sqlite3"))
    writes: list[str] = []
    index._db = CountingWrites(index._db, writes)  # type: ignore[assignment]
    for revision, status in enumerate(["PENDING", "RUNNING", "COMPLETED"], start=1):
        index.put(summary(1, status=status), revision)
        assert index.get("run-00001").status == status  # type: ignore[union-attr]
    assert writes == []
    assert [item.status for item in index.page(Filters(status="COMPLETED"), 10).items] == [
        "COMPLETED"
    ]
    assert writes == ["INSERT"]
    index.put(summary(1, status="FAILED"), 4)
    index.put(summary(1, status="FAILED", submitted_at=5.0), 5)  # moves in the order
    index.commit()
    assert writes == ["INSERT", "DELETE", "INSERT"]
    assert index.counts_by_status() == {"FAILED": 1}
    assert index.remove("run-00002") is None
    index.put(summary(2), 6)
    assert index.remove("run-00002") == summary(2)
    index.close()
    reopened = RunIndex(path=str(tmp_path / "runs.sqlite3"))
    assert [(item.run_id, item.submitted_at) for item in reopened.page(Filters(), 10).items] == [
        ("run-00001", 5.0)
    ]
    assert reopened.applied == 6
    assert reopened.counts_by_status() == {"FAILED": 1}


class CountingWrites:
    """A database connection that notes each statement writing the runs table."""

    def __init__(self, db: sqlite3.Connection, writes: list[str]) -> None:
        self._db = db
        self._writes = writes

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        verb = sql.split()[0]
        if verb in ("INSERT", "UPDATE", "DELETE") and " runs " in f" {sql} ":
            self._writes.append(verb)
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


class CountingLookups(CountingWrites):
    """The connection of `CountingWrites`, noting each lookup of one run as `SELECT`."""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql.startswith("SELECT r.revision"):
            self._writes.append("SELECT")
        return super().execute(sql, *args)


def test_a_run_id_noted_as_made_here_is_not_looked_up_at_its_first_change() -> None:
    index = filled(3)
    index.commit()
    seen: list[str] = []
    index._db = CountingLookups(index._db, seen)  # type: ignore[assignment]
    index.creating("run-00010")
    index.put(summary(10), 20)
    assert seen == []
    assert index.get("run-00010") == summary(10)
    index.put(summary(11), 21)  # not noted: looked up
    assert seen == ["SELECT"]
    index.commit()
    assert seen == ["SELECT", "INSERT", "INSERT"]
    assert index.counts_by_status() == {"PENDING": 5}
    index.put(summary(10, status="RUNNING"), 22)  # the note was spent: its next change is not new
    index.commit()
    assert seen == ["SELECT", "INSERT", "INSERT", "UPDATE"]
    assert index.counts_by_status() == {"PENDING": 4, "RUNNING": 1}


def test_a_note_of_an_id_the_index_holds_changes_nothing() -> None:
    """Ids are made fresh, so this is for ids made twice (tests' fixed ids): a run the index
    holds unwritten or still running is never taken for a new one."""
    index = filled(3)
    index.creating("run-00001")  # unwritten
    index.put(summary(1, status="RUNNING"), 50)
    index.commit()
    index.creating("run-00001")  # running, in the database
    index.put(summary(1, status="COMPLETED"), 51)
    index.commit()  # updates of the row, not second inserts of the run
    assert index.counts_by_status() == {"PENDING": 2, "COMPLETED": 1}
    assert run_ids(index, Filters(), 10) == ["run-00002", "run-00001", "run-00000"]


def test_a_removed_runs_note_is_dropped() -> None:
    index = RunIndex()
    index.creating("run-00002")
    index.remove("run-00002", 4)
    index.put(summary(2), 5)
    index.commit()
    assert index.counts_by_status() == {"PENDING": 1}
    assert "run-00002" not in index._created


def test_notes_never_read_are_bounded() -> None:
    index = RunIndex()
    for i in range(CREATED_NOTES + 10):
        index.creating(f"gone-{i}")
    assert len(index._created) == CREATED_NOTES
    assert "gone-0" not in index._created
    assert f"gone-{CREATED_NOTES + 9}" in index._created


def test_runs_not_ended_are_kept_in_memory_up_to_a_bound() -> None:
    """A queue of runs waiting for workers stays in the file: beyond `live_runs` runs not ended,
    the first seen leave memory, and their next change reads them back, with the same `before`
    and counts as if they had been kept; runs within the bound are never read back."""
    index = RunIndex(live_runs=8)
    seen: list[str] = []
    index._db = CountingLookups(index._db, seen)  # type: ignore[assignment]
    for i in range(5):
        index.creating(f"run-{i:05d}")
        index.put(summary(i), revision=i + 1)
    for i in range(5):
        assert index.put(summary(i, status="RUNNING"), revision=10 + i).before == summary(i)
    assert seen == []  # all within the bound
    for i in range(5, 45):
        index.creating(f"run-{i:05d}")
        index.put(summary(i), revision=20 + i)
        assert len(index._live) <= 8
    index.commit()
    seen.clear()
    for i in range(45):
        status = "RUNNING" if i >= 5 else "COMPLETED"
        before = summary(i, status="PENDING" if i >= 5 else "RUNNING")
        assert index.put(summary(i, status=status), revision=100 + i).before == before
        assert len(index._live) <= 8
    assert seen.count("SELECT") >= 45 - 8 - 5  # the queued runs forgotten were read back
    assert index.counts_by_status() == {"COMPLETED": 5, "RUNNING": 40}
    for i in range(5, 45):
        index.put(summary(i, status="COMPLETED"), revision=200 + i)
    index.commit()
    assert index.counts_by_status() == {"COMPLETED": 45}
    assert index._live == {}


def test_a_wheel_is_bound_while_a_run_bound_to_it_has_not_ended(tmp_path: Path) -> None:
    """Bindings are kept with the runs, written or not, and outlast a reopening of the file."""
    path = str(tmp_path / "runs.sqlite3")
    index = RunIndex(path=path)
    index.put(summary(1), 1, code=("aa", "bb"))
    index.put(summary(2), 2, code=("aa",))
    index.put(summary(3), 3)
    assert (index.bound("aa"), index.bound("bb"), index.bound("cc")) == (True, True, False)
    index.put(summary(4, status="RUNNING"), 4, code=("dd",))
    index.put(summary(4, status="COMPLETED"), 5, code=("dd",))  # ended before any write
    index.commit()
    assert not index.bound("dd")
    index.put(summary(1, status="RUNNING"), 6, code=("aa", "bb"))
    index.commit()
    index.close()
    index = RunIndex(path=path)  # a restarted gateway resuming its file
    assert (index.bound("aa"), index.bound("bb")) == (True, True)
    index.put(summary(1, status="FAILED"), 7, code=("aa", "bb"))
    assert (index.bound("aa"), index.bound("bb")) == (True, False)  # run 2 still holds "aa"
    index.put(summary(2, status="CANCELLED"), 8, code=("aa",))
    assert not index.bound("aa")
    index.put(summary(5), 9, code=("ee",))
    index.commit()
    index.remove("run-00005", 10)
    assert not index.bound("ee")


@pytest.mark.parametrize("oldest_first", [False, True])
def test_runs_of_a_status_are_read_a_page_at_a_time_in_order(oldest_first: bool) -> None:
    """`with_status` reads `STATUS_PAGE` runs at a time; runs that tie on the submit time, a
    page boundary inside the tie and runs changing status while it reads are neither repeated
    nor skipped (but for those leaving the status)."""
    index = RunIndex()
    count = 2 * STATUS_PAGE + 7
    for i in range(count):  # threes submitted at the same moment, one across each page end
        index.put(summary(i, submitted_at=1000.0 + i // 3), revision=i + 1)
    expected = sorted(
        (summary(i, submitted_at=1000.0 + i // 3) for i in range(count)),
        key=lambda run: run.key,
        reverse=oldest_first,
    )
    assert [run.run_id for run in index.with_status("PENDING", oldest_first=oldest_first)] == [
        run.run_id for run in expected
    ]

    seen = []
    leaving = iter(expected[STATUS_PAGE + 3 :])  # each read moves a run not read yet on
    for revision, run in enumerate(index.with_status("PENDING", oldest_first=oldest_first)):
        seen.append(run.run_id)
        gone = next(leaving, None)
        if gone is not None and revision % 2:
            index.put(
                summary(int(gone.run_id[4:]), submitted_at=gone.submitted_at, status="RUNNING"),
                revision=count + revision + 1,
            )
    assert len(seen) == len(set(seen))
    assert seen[: STATUS_PAGE + 3] == [run.run_id for run in expected[: STATUS_PAGE + 3]]


def test_a_caller_that_stops_early_reads_one_page() -> None:
    index = filled(3 * STATUS_PAGE)
    statements: list[str] = []
    index._db.set_trace_callback(statements.append)
    first = next(iter(index.with_status("PENDING", oldest_first=True)))
    index._db.set_trace_callback(None)
    assert first.run_id == "run-00000"
    assert len([sql for sql in statements if sql.startswith("SELECT")]) == 1
