"""The run index's counts and rows stay right through any sequence of changes.

Most changes move a run to its next status and are counted and written by the short way
(services/indexsizes.py `same_place`, indexdb.PROGRESS); the others take the full way. Random
sequences of both, with removals, commits and reopenings, are checked against a model.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyoco_server.services import indexdb
from pyoco_server.services.index import Filters, RunIndex, Summary
from pyoco_server.services.indexsizes import SEP, TENANT_STATUS, FilterSizes, same_place

STATUSES = ("PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED")


def new_summary(rng: random.Random, n: int) -> Summary:
    return Summary(
        run_id=f"run-{n:04d}",
        flow_name=rng.choice(["main", "other"]),
        tag=rng.choice(["t0", "t1"]),
        tags=tuple(rng.sample(["a", "b", "c"], rng.randint(0, 2))),
        status="PENDING",
        submitted_at=1000.0 + n,
        updated_at=1000.0 + n,
        start_time=None,
        end_time=None,
        worker_id=None,
        attempt=0,
        error=None,
        error_reason=None,
        tenant_id=rng.choice([None, "acme", "globex"]),
        workflow_yaml_sha256=rng.choice([None, "f" * 64]),
    )


def changed(rng: random.Random, run: Summary) -> Summary:
    """The run's next change: mostly its progress, now and then any other field too."""
    fields: dict[str, Any] = {
        "status": rng.choice(STATUSES),
        "updated_at": run.updated_at + 1,
        "worker_id": rng.choice([None, "w1", "w2"]),
        "attempt": run.attempt + rng.randint(0, 1),
        "error": rng.choice([None, "boom"]),
    }
    if rng.random() < 0.2:
        other = rng.choice(["flow_name", "tag", "tags", "tenant_id", "sha", "submitted_at"])
        fields.update(
            {
                "flow_name": {"flow_name": "renamed"},
                "tag": {"tag": "t9"},
                "tags": {"tags": ("z",)},
                "tenant_id": {"tenant_id": "initech"},
                "sha": {"workflow_yaml_sha256": "e" * 64},
                "submitted_at": {"submitted_at": run.submitted_at - 0.5},
            }[other]
        )
    return dataclasses.replace(run, **fields)


def expected_counts(runs: dict[str, Summary], default_tenant: str | None) -> dict[Any, int]:
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for run in runs.values():
        tenant = run.tenant_id or default_tenant
        counts[("status", run.status)] += 1
        counts[("flow_name", run.flow_name)] += 1
        counts[("tag", run.tag)] += 1
        counts[(TENANT_STATUS, f"{tenant or ''}{SEP}{run.status}")] += 1
        for label in run.tags:
            counts[("label", label)] += 1
        if run.workflow_yaml_sha256 is not None:
            counts[("workflow_yaml_sha256", run.workflow_yaml_sha256)] += 1
        if tenant is not None:
            counts[("tenant_id", tenant)] += 1
    return dict(counts)


def check(index: RunIndex, runs: dict[str, Summary], default_tenant: str | None) -> None:
    assert dict(index._sizes.counts) == expected_counts(runs, default_tenant)
    listed = index.page(Filters(), 10_000).items
    assert {run.run_id: run for run in listed} == runs
    assert [run.run_id for run in listed] == [
        run.run_id for run in sorted(runs.values(), key=lambda run: run.key)
    ]
    labels = index._db.execute("SELECT label, run_id FROM labels").fetchall()
    assert sorted(labels) == sorted((tag, run.run_id) for run in runs.values() for tag in run.tags)
    saved = dict(index._db.execute("SELECT field || '/' || value, n FROM sizes").fetchall())
    assert saved == {f"{field}/{value}": n for (field, value), n in index._sizes.counts.items()}


@pytest.mark.parametrize("seed", range(6))
def test_counts_and_rows_follow_any_changes(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    default_tenant = "acme" if seed % 2 else None
    path = str(tmp_path / "runs.sqlite3")
    index = RunIndex(default_tenant=default_tenant, path=path)
    runs: dict[str, Summary] = {}
    made = revision = 0
    for _ in range(1500):
        revision += 1
        roll = rng.random()
        if roll < 0.25 or not runs:
            run = new_summary(rng, made)
            made += 1
            if rng.random() < 0.5:
                index.creating(run.run_id)
        elif roll < 0.3:
            gone = rng.choice(sorted(runs))
            assert index.remove(gone, revision) == runs.pop(gone)
            continue
        else:
            run = changed(rng, runs[rng.choice(sorted(runs))])
        assert index.put(run, revision).applied
        runs[run.run_id] = run
        if rng.random() < 0.1:
            index.commit()
            check(index, runs, default_tenant)
        if rng.random() < 0.01:
            index.close()
            index = RunIndex(default_tenant=default_tenant, path=path)
            check(index, runs, default_tenant)
    index.commit()
    check(index, runs, default_tenant)


class Statements:
    """A connection noting the statements that write the runs table."""

    def __init__(self, db: sqlite3.Connection, seen: list[str]) -> None:
        self._db = db
        self._seen = seen

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql.split()[0] in ("INSERT", "UPDATE", "DELETE") and " runs " in f" {sql} ":
            self._seen.append(sql)
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def test_a_status_change_rewrites_only_the_columns_of_progress() -> None:
    index = RunIndex()
    run = new_summary(random.Random(1), 1)
    index.put(run, 1)
    index.commit()
    seen: list[str] = []
    index._db = Statements(index._db, seen)  # type: ignore[assignment]
    index.put(dataclasses.replace(run, status="RUNNING", worker_id="w1"), 2)
    index.commit()
    assert seen == [indexdb.PROGRESS]
    index.put(dataclasses.replace(run, status="COMPLETED", tags=("new",)), 3)
    index.commit()
    assert seen == [indexdb.PROGRESS, indexdb.UPDATE]
    assert index._db.execute("SELECT label FROM labels").fetchall() == [("new",)]


def test_same_place_names_every_field_the_counts_or_indexes_read_but_the_status() -> None:
    """A field added to the counts or to an index of `runs` must be added to `same_place`."""
    run = new_summary(random.Random(2), 2)
    for field, value in {
        "flow_name": "x",
        "tag": "x",
        "tags": ("x",),
        "tenant_id": "x",
        "workflow_yaml_sha256": "x",
    }.items():
        assert not same_place(run, dataclasses.replace(run, **{field: value}))
    assert same_place(run, dataclasses.replace(run, status="RUNNING", worker_id="w", attempt=2))
    sizes = FilterSizes("acme")
    sizes.count(None, run)
    counted = {field for field, _ in sizes.counts}
    assert counted - {"status", TENANT_STATUS} <= {
        "flow_name",
        "tag",
        "label",
        "tenant_id",
        "workflow_yaml_sha256",
    }
    indexed = {
        column
        for (name,) in indexdb.connect(indexdb.MEMORY).execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs'"
        )
        if name.startswith("runs_")
        for column in [name.removeprefix("runs_")]
    }
    assert indexed - {"status", "revision", "run_id"} == {
        "flow_name",
        "tag",
        "tenant",
        "workflow_yaml_sha256",
    }


@given(st.lists(st.text(min_size=1, max_size=8), max_size=4).map(tuple))
def test_the_tags_column_is_the_plain_json_the_triggers_and_older_files_hold(
    tags: tuple[str, ...],
) -> None:
    """The kept text (`indexdb.tags_text`) is what `json.dumps` wrote, and reads back."""
    text = indexdb.tags_text(tags)
    assert text == json.dumps(list(tags), separators=(",", ":"))
    assert indexdb.tags_of(text) == tags
