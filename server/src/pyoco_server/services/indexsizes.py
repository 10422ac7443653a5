"""How many runs the run index holds for each filter value, kept as runs change.

A listing walks the shortest list that applies (services/indexplan.py), so the index keeps, for
each value of each equality filter (status, flow, tag, tenant, flow.yaml SHA-256, label), how
many runs have it, and the runs of each tenant by status (the run list's counts). They are
saved in the `sizes` table with the changes they count (services/indexdb.py).

Most changes only move a run from one status to the next (PENDING, RUNNING, COMPLETED): its
flow, tag, labels, tenant and flow.yaml stay as they were, so only its two status counts
change (`same_place`), which `count` does without working out every pair the run counts in.
"""

from __future__ import annotations

import collections
import sqlite3

from pyoco_server.services.indexplan import COLUMN
from pyoco_server.services.listing import LABEL, Summary

TENANT_STATUS = "tenant_status"
"""The field of the counts by tenant and status: values are `tenant<SEP>status`."""
SEP = "\x1f"

Key = tuple[str, str]
"""A (filter, value) pair."""


def same_place(before: Summary, after: Summary) -> bool:
    """True when the two differ in no field the sizes count but the status."""
    return (
        before.flow_name == after.flow_name
        and before.tag == after.tag
        and before.tags == after.tags
        and before.tenant_id == after.tenant_id
        and before.workflow_yaml_sha256 == after.workflow_yaml_sha256
    )


class FilterSizes:
    """The runs of each (filter, value), and those not saved since they changed (`dirty`).

    `default_tenant` is the tenant of runs stored without one.
    """

    def __init__(self, default_tenant: str | None) -> None:
        self._default_tenant = default_tenant
        self.counts: collections.Counter[Key] = collections.Counter()
        self.dirty: set[Key] = set()

    def load(self, db: sqlite3.Connection) -> None:
        """The counts as saved."""
        self.counts = collections.Counter(
            {(f, v): n for f, v, n in db.execute("SELECT field, value, n FROM sizes")}
        )
        self.dirty = set()

    def clear(self) -> None:
        """No runs."""
        self.counts = collections.Counter()
        self.dirty = set()

    def save(self, db: sqlite3.Connection) -> None:
        """Write the counts changed since the last save (in the caller's transaction)."""
        for field, value in self.dirty:
            n = self.counts.get((field, value), 0)
            if n > 0:
                db.execute("REPLACE INTO sizes VALUES (?, ?, ?)", (field, value, n))
            else:
                db.execute("DELETE FROM sizes WHERE field = ? AND value = ?", (field, value))
        self.dirty.clear()

    def recount(self, db: sqlite3.Connection) -> None:
        """Count the runs of every filter value again (after many went at once)."""
        counts: collections.Counter[Key] = collections.Counter()
        for field, column in COLUMN.items():
            for value, n in db.execute(
                f"SELECT {column}, count(*) FROM runs WHERE {column} IS NOT NULL GROUP BY 1"
            ):
                counts[(field, value)] = n
        for label, n in db.execute("SELECT label, count(*) FROM labels GROUP BY 1"):
            counts[(LABEL, label)] = n
        for tenant, status, n in db.execute(
            "SELECT coalesce(tenant, ''), status, count(*) FROM runs GROUP BY 1, 2"
        ):
            counts[(TENANT_STATUS, f"{tenant}{SEP}{status}")] = n
        db.execute("DELETE FROM sizes")
        self.counts = counts
        self.dirty = set(counts)

    def total(self) -> int:
        """The runs counted."""
        return sum(n for (field, _), n in self.counts.items() if field == "status")

    def by_status(self) -> dict[str, int]:
        """How many runs are in each status."""
        return {value: n for (field, value), n in self.counts.items() if field == "status"}

    def by_tenant(self) -> dict[str, dict[str, int]]:
        """How many runs each tenant has in each status."""
        counts: dict[str, dict[str, int]] = {}
        for (field, value), n in self.counts.items():
            if field == TENANT_STATUS:
                tenant, status = value.split(SEP)
                counts.setdefault(tenant, {})[status] = n
        return counts

    def count(self, before: Summary | None, after: Summary | None) -> None:
        """Count a run as `after` instead of `before` (None: not at all)."""
        if before is not None and after is not None and same_place(before, after):
            if before.status != after.status:
                self._move(self._status_keys(before), self._status_keys(after))
            return
        self._move(self._keys(before), self._keys(after))

    def _move(self, old: frozenset[Key], new: frozenset[Key]) -> None:
        counts = self.counts
        for key in old - new:
            n = counts[key] - 1
            if n > 0:
                counts[key] = n
            else:
                del counts[key]
        for key in new - old:
            counts[key] += 1
        self.dirty |= old ^ new

    def _status_keys(self, summary: Summary) -> frozenset[Key]:
        tenant = summary.tenant_id or self._default_tenant
        return frozenset(
            (("status", summary.status), (TENANT_STATUS, f"{tenant or ''}{SEP}{summary.status}"))
        )

    def _keys(self, summary: Summary | None) -> frozenset[Key]:
        """The (filter, value) pairs `summary` counts in."""
        if summary is None:
            return frozenset()
        tenant = summary.tenant_id or self._default_tenant
        keys = {
            ("flow_name", summary.flow_name),
            ("tag", summary.tag),
            *((LABEL, label) for label in summary.tags),
        }
        keys |= self._status_keys(summary)
        if summary.workflow_yaml_sha256 is not None:
            keys.add(("workflow_yaml_sha256", summary.workflow_yaml_sha256))
        if tenant is not None:
            keys.add(("tenant_id", tenant))
        return frozenset(keys)
