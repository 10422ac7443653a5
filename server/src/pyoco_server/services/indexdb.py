"""The run index's SQLite database: its schema, and opening it (a damaged file is started over).

One row per run in `runs`, whose primary key is the listing order `(neg, run_id)` (`neg` is
minus the submit time: ascending is newest first), so the plain listing walks the table itself.
Each equality filter has an index `(value, neg, run_id)` that serves it in order; a run's labels
(its `tags`) are rows of `labels`, written with the run's row (`LABELS`) and moved or removed
with it by triggers. The keys are stored in descending order and walked backwards: a new run,
the newest, then goes at the end of each B-tree, where SQLite appends, rather than at the
front, where each insert into a full page splits it (a fifth of the instructions of a new
run's insert, measured in docs/performance.md). `code` holds the registry wheels each run not
ended is bound to. `sizes` holds how many runs each filter
value has (to pick the shortest list to walk) and the counts by tenant and status, `meta` the
cache's identity (schema, bucket origin, default tenant) and the last revision applied.

The file is a derived cache of the runs bucket: WAL, `synchronous=NORMAL` (a crash of the
machine may lose the last commits, and they are read again from the bucket: the saved revision
is committed with them), a bounded page cache, so its memory does not grow with the runs.
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pyoco_server.services.listing import Summary

log = logging.getLogger(__name__)

SCHEMA_VERSION = "3"
CACHE_KIB = 16 * 1024
"""The page cache per connection: the index's memory in the process, whatever the run count."""

MEMORY = ":memory:"

LABEL_SETS = 256
"""The sets of labels whose column text is kept (`tags_text`, `tags_of`): runs mostly repeat a
few, and encoding them cost a new run 1.8 µs, decoding them 1 µs a listed run."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sizes (
    field TEXT NOT NULL, value TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (field, value)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
    neg REAL NOT NULL,
    run_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    flow_name TEXT NOT NULL,
    tag TEXT NOT NULL,
    tags TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at REAL NOT NULL,
    start_time REAL,
    end_time REAL,
    worker_id TEXT,
    attempt INTEGER NOT NULL,
    error TEXT,
    error_reason TEXT,
    tenant_id TEXT,
    tenant TEXT,
    workflow_yaml_sha256 TEXT,
    rerun_of TEXT,
    PRIMARY KEY (neg DESC, run_id DESC)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS runs_run_id ON runs (run_id);
CREATE INDEX IF NOT EXISTS runs_revision ON runs (revision);
CREATE INDEX IF NOT EXISTS runs_status ON runs (status, neg DESC, run_id DESC);
CREATE INDEX IF NOT EXISTS runs_flow_name ON runs (flow_name, neg DESC, run_id DESC);
CREATE INDEX IF NOT EXISTS runs_tag ON runs (tag, neg DESC, run_id DESC);
CREATE INDEX IF NOT EXISTS runs_tenant ON runs (tenant, neg DESC, run_id DESC)
    WHERE tenant IS NOT NULL;
CREATE INDEX IF NOT EXISTS runs_workflow_yaml_sha256
    ON runs (workflow_yaml_sha256, neg DESC, run_id DESC) WHERE workflow_yaml_sha256 IS NOT NULL;
CREATE TABLE IF NOT EXISTS labels (
    label TEXT NOT NULL, neg REAL NOT NULL, run_id TEXT NOT NULL,
    PRIMARY KEY (label, neg DESC, run_id DESC)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS runs_labels_out AFTER DELETE ON runs BEGIN
    DELETE FROM labels WHERE label IN (SELECT value FROM json_each(old.tags))
        AND neg = old.neg AND run_id = old.run_id;
END;
CREATE TRIGGER IF NOT EXISTS runs_labels_change AFTER UPDATE OF tags ON runs
    WHEN old.tags != new.tags BEGIN
    DELETE FROM labels WHERE label IN (SELECT value FROM json_each(old.tags))
        AND neg = old.neg AND run_id = old.run_id;
    INSERT OR IGNORE INTO labels SELECT value, new.neg, new.run_id FROM json_each(new.tags);
END;
CREATE TABLE IF NOT EXISTS code (
    run_id TEXT NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (run_id, sha256)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS code_sha256 ON code (sha256);
"""

COLUMNS = (
    "r.run_id, r.flow_name, r.tag, r.tags, r.status, -r.neg, r.updated_at, r.start_time, "
    "r.end_time, r.worker_id, r.attempt, r.error, r.error_reason, r.tenant_id, "
    "r.workflow_yaml_sha256, r.rerun_of"
)
"""A run's `Summary` fields, in their order (the submit time is minus `neg`)."""

INSERT = (
    "INSERT INTO runs (neg, run_id, revision, flow_name, tag, tags, status, updated_at, "
    "start_time, end_time, worker_id, attempt, error, error_reason, tenant_id, tenant, "
    "workflow_yaml_sha256, rerun_of) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
UPDATE = (
    "UPDATE runs SET revision=?, flow_name=?, tag=?, tags=?, status=?, updated_at=?, "
    "start_time=?, end_time=?, worker_id=?, attempt=?, error=?, error_reason=?, tenant_id=?, "
    "tenant=?, workflow_yaml_sha256=?, rerun_of=? WHERE neg=? AND run_id=?"
)

CODE = "INSERT OR IGNORE INTO code (run_id, sha256) VALUES (?, ?)"
"""A wheel (its SHA-256) a run not ended is bound to (`code`): written with its changes."""
CODE_OUT = "DELETE FROM code WHERE run_id = ?"
"""A run's wheels, removed when it ends (its snapshots keep its code) or goes: the table holds
the runs in flight only. Not by a trigger, which would cost every change of every run about
50,000 instructions, wheels or not (`bench.mirror --instructions`)."""

LABELS = "INSERT OR IGNORE INTO labels (label, neg, run_id) VALUES (?, ?, ?)"
"""A label of a run whose row `INSERT` wrote (`labels`): the triggers keep the labels of rows
that change their tags or go, the writer adds those of new rows, all in one `executemany`."""

PROGRESS = (
    "UPDATE runs SET revision=?, status=?, updated_at=?, start_time=?, end_time=?, worker_id=?, "
    "attempt=?, error=?, error_reason=?, rerun_of=? WHERE neg=? AND run_id=?"
)
"""`UPDATE` of the columns a run's progress changes: for a change in no other column
(`indexsizes.same_place`), it rewrites only the row and its status and revision indexes, where
`UPDATE` rewrites every index of the table."""


def connect(path: str) -> sqlite3.Connection:
    """The database at `path` (`MEMORY`: one of this process only), created if missing.

    A file SQLite cannot read (damaged, not a database, another schema) is deleted and started
    over: it is a cache, rebuilt from the bucket.
    """
    if path == MEMORY:
        return _prepared(sqlite3.connect(MEMORY, isolation_level=None, check_same_thread=False))
    try:
        return _prepared(_open(path))
    except sqlite3.DatabaseError as exc:
        log.warning("run index cache %s is unreadable (%s); rebuilding it", path, exc)
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
        return _prepared(_open(path))


def _open(path: str) -> sqlite3.Connection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        version = _schema_version(connection)
        if version not in (None, SCHEMA_VERSION):
            raise sqlite3.DatabaseError(f"schema {version}, not {SCHEMA_VERSION}")
    except sqlite3.DatabaseError:
        connection.close()
        raise
    return connection


def _schema_version(connection: sqlite3.Connection) -> str | None:
    tables = connection.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    if ("meta",) not in tables:
        return None
    row = connection.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
    return None if row is None else str(row[0])


def _prepared(connection: sqlite3.Connection) -> sqlite3.Connection:
    connection.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    connection.execute("PRAGMA temp_store=MEMORY")
    connection.executescript(_SCHEMA)
    connection.execute(
        "INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', ?)", (SCHEMA_VERSION,)
    )
    return connection


def row(summary: Summary, revision: int, default_tenant: str | None) -> tuple[Any, ...]:
    """The run's row (`indexdb.INSERT`'s columns)."""
    return (
        *summary.key,
        revision,
        summary.flow_name,
        summary.tag,
        tags_text(summary.tags),
        summary.status,
        summary.updated_at,
        summary.start_time,
        summary.end_time,
        summary.worker_id,
        summary.attempt,
        summary.error,
        summary.error_reason,
        summary.tenant_id,
        summary.tenant_id or default_tenant,
        summary.workflow_yaml_sha256,
        summary.rerun_of,
    )


@functools.lru_cache(maxsize=LABEL_SETS)
def tags_text(tags: tuple[str, ...]) -> str:
    """The `tags` column of a run with these labels (JSON, as the triggers read it)."""
    return json.dumps(tags, separators=(",", ":"))


@functools.lru_cache(maxsize=LABEL_SETS)
def tags_of(text: str) -> tuple[str, ...]:
    """The labels a `tags` column holds (`tags_text` the other way)."""
    return tuple(json.loads(text))


def labels(summary: Summary) -> list[tuple[str, float, str]]:
    """The run's `LABELS` rows."""
    neg, run_id = summary.key
    return [(label, neg, run_id) for label in summary.tags]


def progress(summary: Summary, revision: int) -> tuple[Any, ...]:
    """The run's `PROGRESS` arguments."""
    return (
        revision,
        summary.status,
        summary.updated_at,
        summary.start_time,
        summary.end_time,
        summary.worker_id,
        summary.attempt,
        summary.error,
        summary.error_reason,
        summary.rerun_of,
        *summary.key,
    )


def summary(row: Sequence[Any]) -> Summary:
    """The summary of a row of `COLUMNS`."""
    return Summary(row[0], row[1], row[2], tags_of(row[3]), *row[4:])


def read_meta(connection: sqlite3.Connection) -> dict[str, str]:
    """The `meta` rows, by name."""
    return dict(connection.execute("SELECT name, value FROM meta").fetchall())


def clear(connection: sqlite3.Connection, meta: dict[str, str]) -> None:
    """Forget every run and start the cache over with `meta` (commits what was open)."""
    if connection.in_transaction:
        connection.execute("COMMIT")
    # Dropped rather than emptied: a DELETE would run the label trigger once per run.
    connection.executescript(
        "DROP TABLE runs; DROP TABLE labels; DROP TABLE sizes; DROP TABLE code;"
    )
    connection.executescript(_SCHEMA)
    connection.execute("DELETE FROM meta WHERE name != 'schema'")
    connection.executemany("INSERT INTO meta (name, value) VALUES (?, ?)", meta.items())
