"""How the run index reads a page: which ordered list it walks, and what it checks on the way.

A page walks the shortest list that holds every run passing the filters: one equality filter's
SQLite index (the run index counts the runs of every filter value, so the shortest is known
without a query), the labels table for a label, the run id index for a `run_id_prefix` with at
most `PREFIX_SORTED_MAX` matches, or the whole table. The other filters are checks on the way.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Mapping
from typing import Any

from pyoco_server.services.listing import LABEL, PREFIX_SORTED_MAX, SECONDARY, Filters

COLUMN = {field: "tenant" if field == "tenant_id" else field for field in SECONDARY}
"""The column of each equality filter (the tenant's is defaulted: `default_tenant`)."""
_LABEL_CHECK = (
    "EXISTS (SELECT 1 FROM labels l WHERE l.label = ? AND l.neg = r.neg AND l.run_id = r.run_id)"
)


@dataclasses.dataclass(slots=True)
class Plan:
    """How a page is read: the ordered list it walks, and the checks on the way."""

    source: str
    walk: list[str]
    walk_args: list[Any]
    order: str = "r.neg, r.run_id"
    keys: str = ""
    """The list's keys alone (for the scan bound), when cheaper than `source`."""
    checks: list[str] = dataclasses.field(default_factory=list)
    check_args: list[Any] = dataclasses.field(default_factory=list)


def plan(
    db: sqlite3.Connection, filters: Filters, sizes: Mapping[tuple[str, str], int], total: int
) -> Plan | None:
    """Walk the shortest list holding every run passing `filters` (None: no run can).

    `sizes` counts the runs of each (filter, value); `total` is the number of runs.
    """
    equalities = filters.equalities()
    found = {field: sizes.get((field, value), 0) for field, value in equalities.items()}
    if any(size == 0 for size in found.values()):
        return None
    drive = min(found, key=lambda field: found[field], default=None)
    if drive is not None and found[drive] >= total:
        drive = None
    shortest = total if drive is None else found[drive]
    chosen = _prefix_plan(db, filters.run_id_prefix, min(shortest, PREFIX_SORTED_MAX))
    if chosen is not None:
        drive = None
    elif drive == LABEL:
        chosen = Plan(
            "labels d JOIN runs r ON r.neg = d.neg AND r.run_id = d.run_id",
            ["d.label = ?"],
            [equalities[LABEL]],
            order="d.neg, d.run_id",
            keys="labels d",
        )
    elif drive is not None:
        column = COLUMN[drive]
        chosen = Plan(f"runs r INDEXED BY runs_{column}", [f"r.{column} = ?"], [equalities[drive]])
    else:
        chosen = Plan("runs r NOT INDEXED", [], [])
    for field, value in equalities.items():
        if field != drive:
            chosen.checks.append(_LABEL_CHECK if field == LABEL else f"r.{COLUMN[field]} = ?")
            chosen.check_args.append(value)
    if filters.updated_after is not None:
        chosen.checks.append("r.updated_at > ?")
        chosen.check_args.append(filters.updated_after)
    if filters.run_id_prefix is not None and not chosen.source.endswith("runs_run_id"):
        chosen.checks.append("r.run_id >= ? AND r.run_id < ?")
        chosen.check_args += _prefix_range(filters.run_id_prefix)
    return chosen


def _prefix_plan(db: sqlite3.Connection, prefix: str | None, at_most: int) -> Plan | None:
    """Walk the runs whose id starts with `prefix`, sorted; None if more than `at_most`."""
    if prefix is None:
        return None
    bounds = _prefix_range(prefix)
    (count,) = db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM runs WHERE run_id >= ? AND run_id < ? LIMIT ?)",
        (*bounds, at_most + 1),
    ).fetchone()
    if count > at_most:
        return None
    return Plan("runs r INDEXED BY runs_run_id", ["r.run_id >= ? AND r.run_id < ?"], bounds)


def _prefix_range(prefix: str) -> list[str]:
    # Run ids are ASCII below DEL: every id with the prefix sorts in [prefix, prefix + DEL).
    return [prefix, prefix + "\x7f"]
