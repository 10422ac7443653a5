"""The run index: every stored run's summary in SQLite, ordered newest submitted first.

Each gateway process keeps one, fed by a watch on the runs bucket (jetstream.BucketMirror), so
listing costs O(limit) and never reads the bucket. The order, filters and cursors are
services/listing.py's; the schema is services/indexdb.py's; how a page is read,
services/indexplan.py's. A change is written at the next commit or read, so the few changes of a
short run (PENDING, RUNNING, COMPLETED within the gateway's commit delay) are one write.

Equality filters (status, flow, tag, tenant, flow.yaml SHA-256, and a label: one of the run's
`tags`) each have an ordered SQLite index, and a page walks the shortest list that applies,
checking the other filters on the way: at most `scan_budget` candidates, returning a cursor
where it stopped.

The database is a file (the gateway's cache, services/indexcache.py) or kept in memory. A file
keeps the revision of the runs bucket it holds everything up to, and the bucket's identity:
a restarted gateway resumes from that revision (`resume`) instead of reading every run again.
Memory does not grow with the runs (SQLite's bounded page cache; the rest is on disk).
With `default_tenant`, runs stored without a tenant (submitted while API keys were off) are
listed under that tenant.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
from collections.abc import Iterator

from pyoco_server.domain.states import TERMINAL
from pyoco_server.ports import BucketOrigin
from pyoco_server.services import indexdb, indexplan
from pyoco_server.services.indexdb import MEMORY
from pyoco_server.services.indexplan import COLUMN
from pyoco_server.services.listing import (
    LABEL,
    PREFIX_SORTED_MAX,
    Filters,
    Page,
    Summary,
    decode_cursor,
    encode_cursor,
)

__all__ = [
    "MEMORY",
    "PREFIX_SORTED_MAX",
    "Applied",
    "Filters",
    "Page",
    "RunIndex",
    "Summary",
    "decode_cursor",
    "encode_cursor",
]

log = logging.getLogger(__name__)

_TENANT_STATUS = "tenant_status"
_SEP = "\x1f"

COMMIT_EVERY = 5000
"""Changes written in one transaction at most (a burst of more is committed in parts)."""
CREATED_NOTES = 4096
"""Runs noted as created (`RunIndex.created`) and not seen yet, at most; older notes go."""


@dataclasses.dataclass(frozen=True, slots=True)
class Applied:
    """What a change did to the index: `before` is the run as it was (None: it was new)."""

    applied: bool
    """False for an older revision than the one kept (ignored)."""
    before: Summary | None


class RunIndex:
    """Run summaries ordered newest first in SQLite, with an ordered index per filter.

    `path` is the cache file (`MEMORY`: kept in this process only). Changes are written in a
    transaction that `commit` ends (the gateway commits after each burst of changes).
    """

    def __init__(
        self, scan_budget: int = 2000, default_tenant: str | None = None, path: str = MEMORY
    ) -> None:
        self._scan_budget = scan_budget
        self._default_tenant = default_tenant
        self._live: dict[str, tuple[int, Summary]] = {}
        """The runs not ended yet that changed since the start, as indexed (revision, summary):
        their next change needs no read of the file. Bounded by the runs in flight."""
        self._unwritten: dict[str, tuple[tuple[float, str] | None, int, Summary]] = {}
        """Changes not written yet, by run: (the run's key in the database, or None if it is
        not there; the revision; the summary). At most `COMMIT_EVERY`."""
        self._created: dict[str, int] = {}
        """Runs this process created, not seen yet: the revision that created each."""
        self.open(path)

    def open(self, path: str) -> None:
        """Open the database at `path` (again, after `close`: a gateway started once more)."""
        self._db = indexdb.connect(path)
        self._live.clear()
        self._unwritten.clear()
        self._created.clear()
        meta = indexdb.read_meta(self._db)
        if meta.get("default_tenant", "") != (self._default_tenant or ""):
            self._reset("")  # runs without a tenant are listed under another one now
        else:
            self._applied = int(meta.get("applied", "0"))
            self._sizes = collections.Counter(
                {(f, v): n for f, v, n in self._db.execute("SELECT field, value, n FROM sizes")}
            )
        self._dirty: set[tuple[str, str]] = set()
        self._pending = 0

    @property
    def applied(self) -> int:
        """The highest revision applied (saved with the changes when they are committed)."""
        return self._applied

    def __len__(self) -> int:
        return sum(n for (field, _), n in self._sizes.items() if field == "status")

    def resume(self, origin: BucketOrigin) -> int:
        """The revision the cache holds the bucket up to, or 0 after starting it over.

        Started over when the bucket is another one (recreated) or ends before the saved
        revision (NATS lost its store). Runs whose last write the bucket no longer holds
        expired while no one was watching (their expiry marker may be gone too): they go.
        """
        meta = indexdb.read_meta(self._db)
        if meta.get("origin") != origin.identity or origin.last_revision < self._applied:
            if self._applied:
                log.info("run index cache is of another bucket or revision; rebuilding it")
            self._reset(origin.identity)
            return 0
        self._write()
        self._begin()
        pruned = self._db.execute(
            "DELETE FROM runs WHERE revision < ?", (origin.first_revision,)
        ).rowcount
        if pruned > 0:
            log.info("run index: %d runs expired while the gateway was down", pruned)
            self._recount()
        self.commit()
        return self._applied

    def created(self, run_id: str, revision: int) -> None:
        """Note that this process stored run `run_id` first, as `revision` of the bucket.

        That revision is the first of the run's key, so when it comes (`put`) the run is new:
        it cannot be in the database, and is not looked up there (a lookup that misses costs a
        new run's change a fifth of its cost). Only the run's next change reads the note, and
        only its own revision matches it: a note that comes after that change, or never gets
        read, changes nothing. At most `CREATED_NOTES` are kept.
        """
        created = self._created
        created[run_id] = revision
        if len(created) > CREATED_NOTES:
            del created[next(iter(created))]

    def put(self, summary: Summary, revision: int) -> Applied:
        """Add or update a run (an older revision than the one kept is ignored).

        Written to the database at the next commit or read: the changes of a run meanwhile (a
        short run's PENDING, RUNNING and COMPLETED) cost one write.
        """
        created = self._created.pop(summary.run_id, None) == revision
        kept = None if created else self._kept(summary.run_id)
        if kept is not None and revision < kept[0]:
            return Applied(False, kept[1])
        before = None if kept is None else kept[1]
        unwritten = self._unwritten.get(summary.run_id)
        in_db = unwritten[0] if unwritten is not None else (None if before is None else before.key)
        self._unwritten[summary.run_id] = (in_db, revision, summary)
        self._count(before, summary)
        self._note(revision)
        if summary.status in TERMINAL:
            self._live.pop(summary.run_id, None)
        else:
            self._live[summary.run_id] = (revision, summary)
        return Applied(True, before)

    def remove(self, run_id: str, revision: int = 0) -> Summary | None:
        """Forget a run (deleted or expired); the summary it had, if indexed."""
        self._write()
        self._live.pop(run_id, None)
        self._created.pop(run_id, None)
        kept = self._row(run_id)
        self._begin()
        if kept is not None:
            self._db.execute("DELETE FROM runs WHERE neg = ? AND run_id = ?", kept[1].key)
            self._count(kept[1], None)
        self._note(revision)
        return None if kept is None else kept[1]

    def commit(self) -> None:
        """Save the changes made so far, with the revision they reach."""
        self._write()
        if not self._db.in_transaction:
            return
        self._db.execute("REPLACE INTO meta VALUES ('applied', ?)", (str(self._applied),))
        for field, value in self._dirty:
            n = self._sizes.get((field, value), 0)
            if n > 0:
                self._db.execute("REPLACE INTO sizes VALUES (?, ?, ?)", (field, value, n))
            else:
                self._db.execute("DELETE FROM sizes WHERE field = ? AND value = ?", (field, value))
        self._dirty.clear()
        self._db.execute("COMMIT")
        self._pending = 0

    def close(self) -> None:
        """Commit and close the database."""
        self.commit()
        self._db.close()

    def get(self, run_id: str) -> Summary | None:
        """A run's summary, if indexed."""
        kept = self._kept(run_id)
        return None if kept is None else kept[1]

    def with_status(self, status: str, *, oldest_first: bool = False) -> Iterator[Summary]:
        """The runs in `status`, newest first (or oldest first), by submit time."""
        self._write()
        direction = "DESC" if oldest_first else ""
        rows = self._db.execute(
            f"SELECT {indexdb.COLUMNS} FROM runs r INDEXED BY runs_status WHERE r.status = ? "
            f"ORDER BY r.neg {direction}, r.run_id {direction}",
            (status,),
        ).fetchall()
        return map(indexdb.summary, rows)

    def counts_by_status(self) -> dict[str, int]:
        """How many runs are in each status (for metrics)."""
        return {value: n for (field, value), n in self._sizes.items() if field == "status"}

    def counts_by_tenant(self) -> dict[str, dict[str, int]]:
        """How many runs each tenant has in each status (a run without one: the default's)."""
        counts: dict[str, dict[str, int]] = {}
        for (field, value), n in self._sizes.items():
            if field == _TENANT_STATUS:
                tenant, status = value.split(_SEP)
                counts.setdefault(tenant, {})[status] = n
        return counts

    def counts_by_tag(self, status: str) -> dict[str, int]:
        """How many runs of `status` each tag has (for metrics; O(runs of that status))."""
        self._write()
        return dict(
            self._db.execute(
                "SELECT tag, count(*) FROM runs INDEXED BY runs_status WHERE status = ? "
                "GROUP BY tag",
                (status,),
            ).fetchall()
        )

    def page(self, filters: Filters, limit: int, cursor: str | None = None) -> Page:
        """Up to `limit` runs passing `filters`, newest first, after `cursor`."""
        after = decode_cursor(cursor) if cursor else (-math.inf, "")
        self._write()
        plan = indexplan.plan(self._db, filters, self._sizes, len(self))
        if plan is None:
            return Page([], None)
        walk = " AND ".join([*plan.walk, f"({plan.order}) > (?, ?)"])
        args = [*plan.walk_args, *after]
        bound = None
        if plan.checks:  # not every run of the list passes: look at `scan_budget` at most
            bound = self._db.execute(
                f"SELECT {plan.order} FROM {plan.keys or plan.source} WHERE {walk} "
                f"ORDER BY {plan.order} LIMIT 1 OFFSET ?",
                (*args, self._scan_budget - 1),
            ).fetchone()
        conditions = [walk, *plan.checks]
        if bound is not None:
            conditions.append(f"({plan.order}) <= (?, ?)")
        rows = self._db.execute(
            f"SELECT {indexdb.COLUMNS} FROM {plan.source} WHERE {' AND '.join(conditions)} "
            f"ORDER BY {plan.order} LIMIT ?",
            (*args, *plan.check_args, *(bound or ()), limit + 1),
        ).fetchall()
        items = [indexdb.summary(row) for row in rows[:limit]]
        if len(rows) > limit:
            return Page(items, encode_cursor(items[-1].key))
        return Page(items, None if bound is None else encode_cursor(tuple(bound)))

    def _kept(self, run_id: str) -> tuple[int, Summary] | None:
        """The revision and summary indexed for `run_id`, written or not."""
        unwritten = self._unwritten.get(run_id)
        if unwritten is not None:
            return unwritten[1], unwritten[2]
        return self._live.get(run_id) or self._row(run_id)

    def _write(self) -> None:
        """Write the changes `put` keeps until a commit or a read (in the open transaction)."""
        if not self._unwritten:
            return
        self._begin()
        execute = self._db.execute
        for in_db, revision, summary in self._unwritten.values():
            values = indexdb.row(summary, revision, self._default_tenant)
            if in_db is None:
                execute(indexdb.INSERT, values)
            elif in_db == summary.key:
                execute(indexdb.UPDATE, (*values[2:], *values[:2]))
            else:  # the submit time changed: the row moves in the order
                execute("DELETE FROM runs WHERE neg = ? AND run_id = ?", in_db)
                execute(indexdb.INSERT, values)
        self._unwritten.clear()

    def _row(self, run_id: str) -> tuple[int, Summary] | None:
        row = self._db.execute(
            f"SELECT r.revision, {indexdb.COLUMNS} FROM runs r WHERE r.run_id = ?", (run_id,)
        ).fetchone()
        return None if row is None else (row[0], indexdb.summary(row[1:]))

    def _begin(self) -> None:
        if not self._db.in_transaction:
            self._db.execute("BEGIN")

    def _note(self, revision: int) -> None:
        self._applied = max(self._applied, revision)
        self._pending += 1
        if self._pending >= COMMIT_EVERY:
            self.commit()

    def _count(self, before: Summary | None, after: Summary | None) -> None:
        """Count a run as `after` instead of `before` (None: not at all)."""
        old = self._counted_as(before)
        new = self._counted_as(after)
        sizes = self._sizes
        for key in old - new:
            n = sizes[key] - 1
            if n > 0:
                sizes[key] = n
            else:
                del sizes[key]
        for key in new - old:
            sizes[key] += 1
        self._dirty |= old ^ new

    def _counted_as(self, summary: Summary | None) -> frozenset[tuple[str, str]]:
        """The (filter, value) pairs `summary` counts in."""
        if summary is None:
            return frozenset()
        tenant = summary.tenant_id or self._default_tenant
        keys = {
            ("status", summary.status),
            ("flow_name", summary.flow_name),
            ("tag", summary.tag),
            (_TENANT_STATUS, f"{tenant or ''}{_SEP}{summary.status}"),
            *((LABEL, label) for label in summary.tags),
        }
        if summary.workflow_yaml_sha256 is not None:
            keys.add(("workflow_yaml_sha256", summary.workflow_yaml_sha256))
        if tenant is not None:
            keys.add(("tenant_id", tenant))
        return frozenset(keys)

    def _recount(self) -> None:
        """Count the runs of every filter value again (after many went at once)."""
        self._sizes = collections.Counter()
        for field, column in COLUMN.items():
            for value, n in self._db.execute(
                f"SELECT {column}, count(*) FROM runs WHERE {column} IS NOT NULL GROUP BY 1"
            ):
                self._sizes[(field, value)] = n
        for label, n in self._db.execute("SELECT label, count(*) FROM labels GROUP BY 1"):
            self._sizes[(LABEL, label)] = n
        for tenant, status, n in self._db.execute(
            "SELECT coalesce(tenant, ''), status, count(*) FROM runs GROUP BY 1, 2"
        ):
            self._sizes[(_TENANT_STATUS, f"{tenant}{_SEP}{status}")] = n
        self._db.execute("DELETE FROM sizes")
        self._dirty = set(self._sizes)

    def _reset(self, origin: str) -> None:
        """Start the cache over for the bucket `origin`."""
        meta = {"origin": origin, "default_tenant": self._default_tenant or "", "applied": "0"}
        indexdb.clear(self._db, meta)
        self._live.clear()
        self._unwritten.clear()
        self._created.clear()
        self._applied = 0
        self._sizes = collections.Counter()
        self._dirty = set()
