"""How the run index's SQLite B-trees are written and read: new runs appended, pages in order.

The keys `(neg, run_id)` are stored in descending order (services/indexdb.py), so the newest run
goes at the end of the table and of every filter's index, where SQLite appends to the last page,
and a listing walks them backwards. Stored ascending, each new run went at the front, where an
insert into a full page splits it: more pages written per run, and a looser file.
"""

from __future__ import annotations

import random
import uuid

import pytest

from pyoco_server.services.index import Filters, RunIndex, Summary
from tests.server.test_index_filters import summary


def runs(count: int) -> list[Summary]:
    """`count` runs in submit order, with random ids as the gateway makes them, every filter set."""
    rng = random.Random(7)
    return [
        summary(
            i,
            run_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            tags=("default", f"team-{i % 3}"),
            status=("PENDING", "COMPLETED")[i % 2],
            tenant_id=f"tenant-{i % 2}",
            workflow_yaml_sha256="ab" * 32 if i % 4 else None,
            flow_name=f"flow-{i % 5}",
        )
        for i in range(count)
    ]


def filled(order: list[Summary]) -> RunIndex:
    index = RunIndex(default_tenant="tenant-0")
    for revision, run in enumerate(order, 1):
        index.creating(run.run_id)
        index.put(run, revision)
        if revision % 100 == 0:
            index.commit()
    index.commit()
    return index


ORDERED = (
    "runs",
    "labels",
    "runs_status",
    "runs_flow_name",
    "runs_tag",
    "runs_tenant",
    "runs_workflow_yaml_sha256",
)
"""The B-trees ordered by submit time (the others: by revision, which grows, and by run id)."""


def pages(index: RunIndex) -> dict[str, int]:
    """Each B-tree's pages (SQLite's `dbstat` table)."""
    rows = index._db.execute("SELECT name, count(*) FROM dbstat GROUP BY name")
    return {name: count for name, count in rows}


def test_runs_arriving_in_submit_order_are_appended_to_every_ordered_btree() -> None:
    """Appends fill each page before the next: each B-tree ordered by submit time takes a third
    fewer pages than when the same runs arrive oldest last, each at its front (as new runs did
    when the keys were stored ascending)."""
    submitted = runs(3000)
    as_they_come = pages(filled(submitted))
    oldest_last = pages(filled(submitted[::-1]))
    for name in ORDERED:
        assert as_they_come[name] * 1.3 < oldest_last[name], (name, as_they_come, oldest_last)


FILTERS = [
    Filters(),
    Filters(status="PENDING"),
    Filters(flow_name="flow-1"),
    Filters(tag="default"),
    Filters(tenant_id="tenant-1"),
    Filters(workflow_yaml_sha256="ab" * 32),
    Filters(label="team-1"),
    Filters(status="PENDING", label="team-2", tenant_id="tenant-0"),
    Filters(updated_after=1200.0),
    Filters(status="COMPLETED", flow_name="flow-2", run_id_prefix="a"),
    Filters(run_id_prefix="ab"),
]


def query_plans(index: RunIndex, statements: list[str]) -> list[tuple[str, list[str]]]:
    """Each query among `statements` (as traced, values in place) with its plan's steps."""
    queries = [sql for sql in statements if sql.lstrip().startswith("SELECT")]
    assert queries
    found = []
    for sql in queries:
        literal = sql.replace("-Inf", "-9e999").replace("Inf", "9e999")  # as SQLite reads them
        found.append((sql, [row[3] for row in index._db.execute(f"EXPLAIN QUERY PLAN {literal}")]))
    return found


@pytest.mark.parametrize("filters", FILTERS, ids=repr)
def test_pages_walk_an_index_in_its_order(filters: Filters) -> None:
    """No page query sorts what it reads (pages cost O(limit)), but a prefix's: it sorts at most
    `PREFIX_SORTED_MAX` runs (services/indexplan.py)."""
    index = filled(runs(400))
    statements: list[str] = []
    index._db.set_trace_callback(statements.append)
    page = index.page(filters, 5)
    index.page(filters, 5, page.next_cursor)
    index._db.set_trace_callback(None)
    for sql, plan in query_plans(index, statements):
        sorted_here = any("TEMP B-TREE" in step for step in plan)
        by_prefix = "runs_run_id" in sql and filters.run_id_prefix is not None
        assert not sorted_here or by_prefix, (sql, plan)


@pytest.mark.parametrize("oldest_first", [False, True])
def test_runs_of_a_status_are_read_in_the_status_index_order(oldest_first: bool) -> None:
    """The reaper's reading (`with_status`) walks the status index, a page at a time."""
    index = filled(runs(400))
    statements: list[str] = []
    index._db.set_trace_callback(statements.append)
    assert len(list(index.with_status("PENDING", oldest_first=oldest_first))) == 200
    index._db.set_trace_callback(None)
    for sql, plan in query_plans(index, statements):
        assert not any("TEMP B-TREE" in step for step in plan), (sql, plan)
        assert any("runs_status" in step for step in plan), (sql, plan)
