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
Memory does not grow with the runs (SQLite's bounded page cache, and at most `LIVE_RUNS` runs not
ended kept to spare a read at their next change; the rest is on disk).
With `default_tenant`, runs stored without a tenant (submitted while API keys were off) are
listed under that tenant.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
from collections.abc import Iterator

from pyoco_server.domain.states import TERMINAL
from pyoco_server.ports import BucketOrigin
from pyoco_server.services import indexdb, indexplan
from pyoco_server.services.indexdb import MEMORY
from pyoco_server.services.indexsizes import FilterSizes, same_place
from pyoco_server.services.listing import (
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

COMMIT_EVERY = 5000
"""Changes written in one transaction at most (a burst of more is committed in parts)."""
STATUS_PAGE = 256
"""Runs read at a time by `RunIndex.with_status`."""
CREATED_NOTES = 4096
"""Run ids noted as made (`RunIndex.creating`) and not seen yet, at most; older notes go."""
LIVE_RUNS = 8192
"""Runs not ended whose summary is kept in memory, at most (`RunIndex.put`)."""


_Unwritten = tuple[tuple[float, str] | None, int, Summary, Summary | None, tuple[str, ...]]
"""A change not written yet: the run's key in the database (None: not there), the revision,
the summary, the summary the database holds (None: not there), and the wheels it is bound to."""


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
        self,
        scan_budget: int = 2000,
        default_tenant: str | None = None,
        path: str = MEMORY,
        *,
        live_runs: int = LIVE_RUNS,
    ) -> None:
        self._scan_budget = scan_budget
        self._default_tenant = default_tenant
        self._live: dict[str, tuple[int, Summary]] = {}
        """Runs not ended yet that changed since the start, as indexed (revision, summary):
        their next change needs no read of the file. At most `live_runs`, the first seen going
        first: a queue of a million runs waiting for workers stays in the file."""
        self._live_runs = live_runs
        self._unwritten: dict[str, _Unwritten] = {}
        """Changes not written yet, by run (at most `COMMIT_EVERY`)."""
        self._created: dict[str, None] = {}
        """The run ids this process made whose first change has not come yet (`creating`)."""
        self._sizes = FilterSizes(default_tenant)
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
            self._sizes.load(self._db)
        self._pending = 0

    @property
    def applied(self) -> int:
        """The highest revision applied (saved with the changes when they are committed)."""
        return self._applied

    def __len__(self) -> int:
        return self._sizes.total()

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
            self._sizes.recount(self._db)
        self.commit()
        return self._applied

    def creating(self, run_id: str) -> None:
        """Note that this process made the run id `run_id` for a run it is about to submit.

        No revision of that key can come before the note, so the first change of it that comes
        (`put`) is its first revision: the run is new, cannot be in the database, and is not
        looked up there (a lookup that misses costs a new run's change a fifth of its cost).
        The note is spent by that change; one never read (a submit that failed) changes
        nothing. At most `CREATED_NOTES` are kept, the oldest going first.
        """
        created = self._created
        created[run_id] = None
        if len(created) > CREATED_NOTES:
            del created[next(iter(created))]

    def put(self, summary: Summary, revision: int, code: tuple[str, ...] = ()) -> Applied:
        """Add or update a run (an older revision than the one kept is ignored).

        `code`: the SHA-256 of each registry wheel the run is bound to (`bound`). Written to
        the database at the next commit or read: the changes of a run meanwhile (a short run's
        PENDING, RUNNING and COMPLETED) cost one write.
        """
        run_id = summary.run_id
        new = run_id in self._created
        if new:  # (an id made twice, as tests' ids are, is looked up all the same)
            del self._created[run_id]
            new = run_id not in self._unwritten and run_id not in self._live
        kept = None if new else self._kept(run_id)
        if kept is not None and revision < kept[0]:
            return Applied(False, kept[1])
        before = None if kept is None else kept[1]
        unwritten = self._unwritten.get(summary.run_id)
        written = unwritten[3] if unwritten is not None else before  # as in the database
        in_db = unwritten[0] if unwritten is not None else (None if before is None else before.key)
        self._unwritten[summary.run_id] = (in_db, revision, summary, written, code)
        self._sizes.count(before, summary)
        self._note(revision)
        if summary.status in TERMINAL:
            self._live.pop(summary.run_id, None)
        else:
            self._live[summary.run_id] = (revision, summary)
            if len(self._live) > self._live_runs:
                self._forget_oldest_live()
        return Applied(True, before)

    def _forget_oldest_live(self) -> None:
        """Keep the newest three quarters of the live runs (their next change reads the file).

        Rebuilt rather than deleted from the front one at a time: a dict finds its first key
        by skipping the deleted ones before it, which would cost O(n) per deletion.
        """
        live = self._live
        self._live = dict(itertools.islice(live.items(), len(live) // 4, None))

    def remove(self, run_id: str, revision: int = 0) -> Summary | None:
        """Forget a run (deleted or expired); the summary it had, if indexed."""
        self._write()
        self._live.pop(run_id, None)
        self._created.pop(run_id, None)
        kept = self._row(run_id)
        self._begin()
        if kept is not None:
            self._db.execute("DELETE FROM runs WHERE neg = ? AND run_id = ?", kept[1].key)
            self._db.execute(indexdb.CODE_OUT, (run_id,))
            self._sizes.count(kept[1], None)
        self._note(revision)
        return None if kept is None else kept[1]

    def commit(self) -> None:
        """Save the changes made so far, with the revision they reach."""
        self._write()
        if not self._db.in_transaction:
            return
        self._db.execute("REPLACE INTO meta VALUES ('applied', ?)", (str(self._applied),))
        self._sizes.save(self._db)
        self._db.execute("COMMIT")
        self._pending = 0

    def close(self) -> None:
        """Commit and close the database."""
        self.commit()
        self._db.close()

    def bound(self, sha256: str) -> bool:
        """True while a run not ended is bound to the registry wheel with this content."""
        self._write()
        found = self._db.execute("SELECT 1 FROM code WHERE sha256 = ? LIMIT 1", (sha256,))
        return found.fetchone() is not None

    def get(self, run_id: str) -> Summary | None:
        """A run's summary, if indexed."""
        kept = self._kept(run_id)
        return None if kept is None else kept[1]

    def with_status(self, status: str, *, oldest_first: bool = False) -> Iterator[Summary]:
        """The runs in `status`, newest first (or oldest first), by submit time.

        Read `STATUS_PAGE` runs at a time as the caller goes on, each page after the last run
        of the one before (by its order key, which never changes): a caller that stops early
        reads no further, and one that waits between runs holds no statement open. A run that
        enters or leaves the status meanwhile may be seen or not; no run is seen twice.
        """
        direction, beyond = ("DESC", "<") if oldest_first else ("", ">")
        after: tuple[float, str] = (math.inf, "") if oldest_first else (-math.inf, "")
        while True:
            self._write()
            rows = self._db.execute(
                f"SELECT {indexdb.COLUMNS} FROM runs r INDEXED BY runs_status WHERE r.status = ? "
                f"AND (r.neg, r.run_id) {beyond} (?, ?) "
                f"ORDER BY r.neg {direction}, r.run_id {direction} LIMIT ?",
                (status, *after, STATUS_PAGE),
            ).fetchall()
            page = [indexdb.summary(row) for row in rows]
            yield from page
            if len(page) < STATUS_PAGE:
                return
            after = page[-1].key

    def counts_by_status(self) -> dict[str, int]:
        """How many runs are in each status (for metrics)."""
        return self._sizes.by_status()

    def counts_by_tenant(self) -> dict[str, dict[str, int]]:
        """How many runs each tenant has in each status (a run without one: the default's)."""
        return self._sizes.by_tenant()

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
        plan = indexplan.plan(self._db, filters, self._sizes.counts, len(self))
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
        labels: list[tuple[str, float, str]] = []
        for in_db, revision, summary, written, _ in self._unwritten.values():
            if in_db == summary.key and written is not None and same_place(written, summary):
                execute(indexdb.PROGRESS, indexdb.progress(summary, revision))  # it moved on
                continue
            values = indexdb.row(summary, revision, self._default_tenant)
            if in_db == summary.key:
                execute(indexdb.UPDATE, (*values[2:], *values[:2]))  # a trigger moves labels
                continue
            if in_db is not None:  # the submit time changed: the row moves in the order
                execute("DELETE FROM runs WHERE neg = ? AND run_id = ?", in_db)
            execute(indexdb.INSERT, values)
            labels += indexdb.labels(summary)
        if labels:  # one statement for all: 12,000 instructions a run, the trigger was 66,000
            self._db.executemany(indexdb.LABELS, labels)
        self._write_code()
        self._unwritten.clear()

    def _write_code(self) -> None:
        """Write the wheels of the runs not ended, remove those of the runs that ended."""
        code: list[tuple[str, str]] = []
        ended: list[tuple[str]] = []
        for in_db, _, summary, _, bound in self._unwritten.values():
            if bound:  # a run's snapshots all name its wheels
                if summary.status not in TERMINAL:
                    code += ((summary.run_id, sha256) for sha256 in bound)
                elif in_db is not None:  # its rows were written with its row
                    ended.append((summary.run_id,))
        if code:
            self._db.executemany(indexdb.CODE, code)
        if ended:
            self._db.executemany(indexdb.CODE_OUT, ended)

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

    def _reset(self, origin: str) -> None:
        """Start the cache over for the bucket `origin`."""
        meta = {"origin": origin, "default_tenant": self._default_tenant or "", "applied": "0"}
        indexdb.clear(self._db, meta)
        self._live.clear()
        self._unwritten.clear()
        self._created.clear()
        self._applied = 0
        self._sizes.clear()
