"""The run index: every stored run's summary, in memory, ordered newest submitted first.

Each gateway process keeps one, fed by a watch on the runs bucket (jetstream.BucketMirror), so
listing costs O(limit) and never reads the bucket. Runs are ordered by `(submitted_at, run_id)`,
descending. Both are fixed when a run is created, so a run never moves in the order: a cursor
(the key of the last run of a page) continues exactly below it, and paging never skips or
repeats a run however runs change state meanwhile.

Equality filters (status, flow, tag, tenant, flow.yaml SHA-256) each have their own ordered key
list, and a page walks the shortest one that applies, checking the other filters on the way.
`updated_after` has no list of its own: it is checked on the candidates, and a page checks at
most `scan_budget` of them, returning a cursor where it stopped.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any

from sortedcontainers import SortedList

from pyoco_server.domain.errors import InvalidInput

OrderKey = tuple[float, str]
"""`(-submitted_at, run_id)`: ascending order of these keys is newest submitted first."""

_SECONDARY = ("status", "flow_name", "tag", "tenant_id", "workflow_yaml_sha256")


INDEX_ERROR_CHARS = 160
"""The index keeps only the start of a run's error (GET /runs/{id} has all of it)."""


def _short(error: str | None) -> str | None:
    if error is None or len(error) <= INDEX_ERROR_CHARS:
        return error
    return error[: INDEX_ERROR_CHARS - 1] + "…"


@dataclasses.dataclass(frozen=True, slots=True)
class Summary:
    """What the index keeps of a run (openapi.yaml `RunSummary`)."""

    run_id: str
    flow_name: str
    tag: str
    tags: tuple[str, ...]
    status: str
    submitted_at: float
    updated_at: float
    start_time: float | None
    end_time: float | None
    worker_id: str | None
    attempt: int
    error: str | None
    error_reason: str | None
    tenant_id: str | None
    workflow_yaml_sha256: str | None

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> Summary:
        """The summary of a stored snapshot (its JSON form)."""
        return cls(
            run_id=data["run_id"],
            flow_name=data["flow_name"],
            tag=data["tag"],
            tags=tuple(data.get("tags") or ()),
            status=data["status"],
            submitted_at=float(data.get("submitted_at", data["updated_at"])),
            updated_at=float(data["updated_at"]),
            start_time=data.get("start_time"),
            end_time=data.get("end_time"),
            worker_id=data.get("worker_id"),
            attempt=int(data.get("attempt", 0)),
            error=_short(data.get("error")),
            error_reason=data.get("error_reason"),
            tenant_id=data.get("tenant_id"),
            workflow_yaml_sha256=data.get("workflow_yaml_sha256"),
        )

    @property
    def key(self) -> OrderKey:
        """Its place in the index (newest first)."""
        return (-self.submitted_at, self.run_id)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (openapi.yaml `RunSummary`)."""
        # Field by field: dataclasses.asdict deep-copies and costs ~20 µs a summary.
        data = {name: getattr(self, name) for name in _FIELDS}
        data["tags"] = list(self.tags)
        return data


_FIELDS = tuple(field.name for field in dataclasses.fields(Summary))


@dataclasses.dataclass(frozen=True, slots=True)
class Filters:
    """What a listing asks for; None means any."""

    status: str | None = None
    flow_name: str | None = None
    tag: str | None = None
    tenant_id: str | None = None
    workflow_yaml_sha256: str | None = None
    updated_after: float | None = None

    def equalities(self) -> dict[str, str]:
        """The equality filters that are set, by field."""
        return {name: value for name in _SECONDARY if (value := getattr(self, name)) is not None}

    def accepts(self, summary: Summary) -> bool:
        """True when `summary` passes every filter."""
        if self.updated_after is not None and not summary.updated_at > self.updated_after:
            return False
        return all(getattr(summary, name) == value for name, value in self.equalities().items())


@dataclasses.dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing; `next_cursor` is None when nothing is left."""

    items: list[Summary]
    next_cursor: str | None


class RunIndex:
    """Run summaries ordered newest first, with one ordered key list per filter value."""

    def __init__(self, scan_budget: int = 2000) -> None:
        self._scan_budget = scan_budget
        self._summaries: dict[str, Summary] = {}
        self._revisions: dict[str, int] = {}
        self._order: SortedList = SortedList()
        self._lists: dict[tuple[str, str], SortedList] = {}

    def __len__(self) -> int:
        return len(self._summaries)

    def put(self, summary: Summary, revision: int) -> None:
        """Add or update a run (an older revision than the one kept is ignored)."""
        if revision < self._revisions.get(summary.run_id, 0):
            return
        old = self._summaries.get(summary.run_id)
        self._summaries[summary.run_id] = summary
        self._revisions[summary.run_id] = revision
        if old is None:
            self._list(summary)
        elif old.key != summary.key:
            self._unlist(old)
            self._list(summary)
        else:  # the usual change, of status only: move the run between two lists
            for field in _SECONDARY:
                before, after = getattr(old, field), getattr(summary, field)
                if before != after:
                    self._unlist_field(field, before, old.key)
                    self._list_field(field, after, summary.key)

    def remove(self, run_id: str) -> None:
        """Forget a run (deleted or expired)."""
        old = self._summaries.pop(run_id, None)
        self._revisions.pop(run_id, None)
        if old is not None:
            self._unlist(old)

    def get(self, run_id: str) -> Summary | None:
        """A run's summary, if indexed."""
        return self._summaries.get(run_id)

    def with_status(self, status: str, *, oldest_first: bool = False) -> Iterator[Summary]:
        """The runs in `status`, newest first (or oldest first), by submit time."""
        keys = self._lists.get(("status", status))
        if keys is None:
            return
        for key in list(reversed(keys) if oldest_first else keys):
            summary = self._summaries.get(key[1])
            if summary is not None:
                yield summary

    def counts_by_status(self) -> dict[str, int]:
        """How many runs are in each status (for metrics)."""
        return {
            value: len(keys) for (field, value), keys in self._lists.items() if field == "status"
        }

    def counts_by_tag(self, status: str) -> dict[str, int]:
        """How many runs of `status` each tag has (for metrics; O(runs of that status))."""
        counts: dict[str, int] = {}
        for _, run_id in self._lists.get(("status", status), ()):
            tag = self._summaries[run_id].tag
            counts[tag] = counts.get(tag, 0) + 1
        return counts

    def _list(self, summary: Summary) -> None:
        self._order.add(summary.key)
        for field in _SECONDARY:
            self._list_field(field, getattr(summary, field), summary.key)

    def _unlist(self, summary: Summary) -> None:
        self._order.discard(summary.key)
        for field in _SECONDARY:
            self._unlist_field(field, getattr(summary, field), summary.key)

    def _list_field(self, field: str, value: str | None, key: OrderKey) -> None:
        if value is not None:
            self._lists.setdefault((field, value), SortedList()).add(key)

    def _unlist_field(self, field: str, value: str | None, key: OrderKey) -> None:
        if value is None:
            return
        keys = self._lists.get((field, value))
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._lists[(field, value)]

    def page(self, filters: Filters, limit: int, cursor: str | None = None) -> Page:
        """Up to `limit` runs passing `filters`, newest first, after `cursor`."""
        after = decode_cursor(cursor) if cursor else None
        items: list[Summary] = []
        for scanned, key in enumerate(self._candidates(filters, after), start=1):
            summary = self._summaries[key[1]]
            if filters.accepts(summary):
                items.append(summary)
                if len(items) == limit:
                    return Page(items, self._cursor_if_more(filters, key))
            if scanned >= self._scan_budget:
                return Page(items, encode_cursor(key))
        return Page(items, None)

    def _candidates(self, filters: Filters, after: OrderKey | None) -> Iterator[OrderKey]:
        keys = self._order
        for field, value in filters.equalities().items():
            listed = self._lists.get((field, value))
            if listed is None:
                return iter(())
            if len(listed) < len(keys):
                keys = listed
        if after is None:
            return iter(keys)
        following: Iterator[OrderKey] = keys.irange(minimum=after, inclusive=(False, True))
        return following

    def _cursor_if_more(self, filters: Filters, key: OrderKey) -> str | None:
        """A cursor after `key`, or None when no later run could match."""
        upcoming = self._candidates(filters, key)
        return encode_cursor(key) if next(upcoming, None) is not None else None


def encode_cursor(key: OrderKey) -> str:
    """The opaque cursor that continues after `key`."""
    raw = json.dumps([key[0], key[1]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> OrderKey:
    """The key a cursor continues after (`InvalidInput` for a cursor we did not issue)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position, run_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise InvalidInput(
            "cursor is not one this server issued; pass the next_cursor of the previous page"
        ) from None
    if not isinstance(position, (int, float)) or not isinstance(run_id, str):
        raise InvalidInput(
            "cursor is not one this server issued; pass the next_cursor of the previous page"
        )
    return (float(position), run_id)
