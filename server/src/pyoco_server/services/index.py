"""The run index: every stored run's summary, in memory, ordered newest submitted first.

Each gateway process keeps one, fed by a watch on the runs bucket (jetstream.BucketMirror), so
listing costs O(limit) and never reads the bucket. Runs are ordered by `(submitted_at, run_id)`,
descending. Both are fixed when a run is created, so a run never moves in the order: a cursor
(the key of the last run of a page) continues exactly below it, and paging never skips or
repeats a run however runs change state meanwhile.

Equality filters (status, flow, tag, tenant, flow.yaml SHA-256, and a label: one of the run's
`tags`) each have their own ordered key list, and a page walks the shortest one that applies,
checking the other filters on the way. `run_id_prefix` looks the prefix up in a sorted list of
run ids (O(log n) to count the matches); up to `PREFIX_SORTED_MAX` matches are sorted into a
list of their own (O(m log m)), more are checked on the way like `updated_after`, which has no
list: a page checks at most `scan_budget` candidates, returning a cursor where it stopped.

Memory (about 0.6 KB a run, measured with tracemalloc on 100,000 runs; bench/listing.py measures
the gateway process): every summary shares one order key object and one run id object with the
lists, and the values that repeat from run to run (status, flow, tag, tenant, worker, reason,
SHA-256 and label tuples) are interned, so a run costs its own fields and a pointer per list.
With `default_tenant`, runs stored without a tenant (submitted while API keys were off) are
listed under that tenant.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import dataclasses
import itertools
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeAlias

from sortedcontainers import SortedList

from pyoco_server.domain.errors import InvalidInput

OrderKey = tuple[float, str]
"""`(-submitted_at, run_id)`: ascending order of these keys is newest submitted first."""

_SECONDARY = ("status", "flow_name", "tag", "tenant_id", "workflow_yaml_sha256")
_INTERNED = (*_SECONDARY, "worker_id", "error_reason")
_LABEL = "label"

INDEX_ERROR_CHARS = 160
"""The index keeps only the start of a run's error (GET /runs/{id} has all of it)."""

PREFIX_SORTED_MAX = 1000
"""Runs matching a `run_id_prefix` that are sorted into a list of their own; beyond, the prefix
is checked on the candidates (a one-character prefix of UUIDs matches one run in 16)."""

_LABEL_TUPLES_MAX = 4096
"""Distinct label tuples shared between summaries; others are kept per run."""
_label_tuples: dict[tuple[str, ...], tuple[str, ...]] = {}


def _short(error: str | None) -> str | None:
    if error is None or len(error) <= INDEX_ERROR_CHARS:
        return error
    return error[: INDEX_ERROR_CHARS - 1] + "…"


def _interned(value: Any) -> Any:
    return sys.intern(value) if type(value) is str else value


def _labels(tags: Sequence[str] | None) -> tuple[str, ...]:
    """The run's labels as a shared tuple (most runs carry one of a few label sets)."""
    labels = tuple(sys.intern(tag) for tag in tags or ())
    shared = _label_tuples.get(labels)
    if shared is not None:
        return shared
    if len(_label_tuples) < _LABEL_TUPLES_MAX:
        _label_tuples[labels] = labels
    return labels


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
    rerun_of: str | None = None
    key: OrderKey = dataclasses.field(init=False, repr=False, compare=False)
    """Its place in the index, newest first (one tuple shared by every list holding the run)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (-self.submitted_at, self.run_id))

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> Summary:
        """The summary of a stored snapshot (its JSON form)."""
        get = data.get
        return cls(
            run_id=data["run_id"],
            flow_name=_interned(data["flow_name"]),
            tag=_interned(data["tag"]),
            tags=_labels(get("tags")),
            status=_interned(data["status"]),
            submitted_at=float(get("submitted_at", data["updated_at"])),
            updated_at=float(data["updated_at"]),
            start_time=get("start_time"),
            end_time=get("end_time"),
            worker_id=_interned(get("worker_id")),
            attempt=int(get("attempt", 0)),
            error=_short(get("error")),
            error_reason=_interned(get("error_reason")),
            tenant_id=_interned(get("tenant_id")),
            workflow_yaml_sha256=_interned(get("workflow_yaml_sha256")),
            rerun_of=get("rerun_of"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (openapi.yaml `RunSummary`)."""
        # Field by field: dataclasses.asdict deep-copies and costs ~20 µs a summary.
        data = {name: getattr(self, name) for name in _FIELDS}
        data["tags"] = list(self.tags)
        return data


_FIELDS = tuple(field.name for field in dataclasses.fields(Summary) if field.init)


@dataclasses.dataclass(frozen=True, slots=True)
class Filters:
    """What a listing asks for; None means any."""

    status: str | None = None
    flow_name: str | None = None
    tag: str | None = None
    tenant_id: str | None = None
    workflow_yaml_sha256: str | None = None
    updated_after: float | None = None
    label: str | None = None
    """Runs whose `tags` contain it."""
    run_id_prefix: str | None = None

    def equalities(self) -> dict[str, str]:
        """The equality filters that are set, by field (a label under `label`)."""
        found = {name: value for name in _SECONDARY if (value := getattr(self, name)) is not None}
        if self.label is not None:
            found[_LABEL] = self.label
        return found


@dataclasses.dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing; `next_cursor` is None when nothing is left."""

    items: list[Summary]
    next_cursor: str | None


Keys: TypeAlias = "SortedList | list[OrderKey]"
"""Ordered keys: a SortedList kept by the index, or a list sorted for one page."""


class RunIndex:
    """Run summaries ordered newest first, with one ordered key list per filter value."""

    def __init__(self, scan_budget: int = 2000, default_tenant: str | None = None) -> None:
        self._scan_budget = scan_budget
        self._default_tenant = default_tenant
        self._summaries: dict[str, Summary] = {}
        self._revisions: dict[str, int] = {}
        self._order: SortedList = SortedList()
        self._ids: SortedList = SortedList()
        self._lists: dict[tuple[str, str], SortedList] = {}

    def __len__(self) -> int:
        return len(self._summaries)

    def put(self, summary: Summary, revision: int) -> None:
        """Add or update a run (an older revision than the one kept is ignored)."""
        if revision < self._revisions.get(summary.run_id, 0):
            return
        old = self._summaries.get(summary.run_id)
        if old is not None and old.key == summary.key:
            object.__setattr__(summary, "key", old.key)  # share the one the lists hold
        self._summaries[summary.run_id] = summary
        self._revisions[summary.run_id] = revision
        if old is None:
            self._ids.add(summary.run_id)
            self._list(summary)
        elif old.key != summary.key:
            self._unlist(old)
            self._list(summary)
        else:  # the usual change, of status only: move the run between two lists
            default = self._default_tenant
            for before, after in zip(
                _entries(old, default), _entries(summary, default), strict=True
            ):
                if before != after:
                    self._unlist_field(*before, old.key)
                    self._list_field(*after, summary.key)
            self._relabel(old, summary)

    def remove(self, run_id: str) -> None:
        """Forget a run (deleted or expired)."""
        old = self._summaries.pop(run_id, None)
        self._revisions.pop(run_id, None)
        if old is not None:
            self._ids.discard(run_id)
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

    def _tenant(self, summary: Summary) -> str | None:
        return summary.tenant_id or self._default_tenant

    def _list(self, summary: Summary) -> None:
        self._order.add(summary.key)
        for field, value in _entries(summary, self._default_tenant):
            self._list_field(field, value, summary.key)
        for label in set(summary.tags):
            self._list_field(_LABEL, label, summary.key)

    def _unlist(self, summary: Summary) -> None:
        self._order.discard(summary.key)
        for field, value in _entries(summary, self._default_tenant):
            self._unlist_field(field, value, summary.key)
        for label in set(summary.tags):
            self._unlist_field(_LABEL, label, summary.key)

    def _relabel(self, old: Summary, new: Summary) -> None:
        if old.tags is new.tags or old.tags == new.tags:
            return
        for label in set(old.tags) - set(new.tags):
            self._unlist_field(_LABEL, label, old.key)
        for label in set(new.tags) - set(old.tags):
            self._list_field(_LABEL, label, new.key)

    def _list_field(self, field: str, value: str | None, key: OrderKey) -> None:
        if value is None:
            return
        keys = self._lists.get((field, value))
        if keys is None:  # not setdefault: that would build a SortedList on every call
            keys = self._lists[(field, value)] = SortedList()
        keys.add(key)

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
        keys = self._keys(filters)
        items: list[Summary] = []
        for scanned, key in enumerate(_following(keys, after), start=1):
            summary = self._summaries[key[1]]
            if self._accepts(filters, summary):
                items.append(summary)
                if len(items) == limit:
                    more = next(_following(keys, key), None) is not None
                    return Page(items, encode_cursor(key) if more else None)
            if scanned >= self._scan_budget:
                return Page(items, encode_cursor(key))
        return Page(items, None)

    def _accepts(self, filters: Filters, summary: Summary) -> bool:
        """True when `summary` passes every filter."""
        if filters.updated_after is not None and not summary.updated_at > filters.updated_after:
            return False
        if filters.run_id_prefix is not None and not summary.run_id.startswith(
            filters.run_id_prefix
        ):
            return False
        for field, value in filters.equalities().items():
            if field == _LABEL:
                if value not in summary.tags:
                    return False
            elif field == "tenant_id":
                if self._tenant(summary) != value:
                    return False
            elif getattr(summary, field) != value:
                return False
        return True

    def _keys(self, filters: Filters) -> Keys:
        """The shortest ordered key list that holds every run passing `filters`."""
        keys: Keys = self._order
        for field, value in filters.equalities().items():
            listed = self._lists.get((field, value))
            if listed is None:
                return []
            if len(listed) < len(keys):
                keys = listed
        if filters.run_id_prefix is not None:
            matching = self._with_prefix(filters.run_id_prefix, min(len(keys), PREFIX_SORTED_MAX))
            if matching is not None:
                keys = matching
        return keys

    def _with_prefix(self, prefix: str, at_most: int) -> list[OrderKey] | None:
        """The keys of the runs whose id starts with `prefix`, sorted; None if over `at_most`."""
        end = prefix + "\x7f"  # run ids are ASCII below DEL: every id with the prefix sorts first
        count = self._ids.bisect_left(end) - self._ids.bisect_left(prefix)
        if count > at_most:
            return None
        run_ids = self._ids.irange(prefix, end, inclusive=(True, False))
        return sorted(self._summaries[run_id].key for run_id in run_ids)


def _entries(summary: Summary, default_tenant: str | None) -> Iterator[tuple[str, str | None]]:
    """(field, value) of the summary's equality lists (the tenant defaulted when asked)."""
    yield "status", summary.status
    yield "flow_name", summary.flow_name
    yield "tag", summary.tag
    yield "tenant_id", summary.tenant_id or default_tenant
    yield "workflow_yaml_sha256", summary.workflow_yaml_sha256


def _following(keys: Keys, after: OrderKey | None) -> Iterator[OrderKey]:
    """The keys after `after` (all when None), in order."""
    if after is None:
        return iter(keys)
    if isinstance(keys, SortedList):
        following: Iterator[OrderKey] = keys.irange(minimum=after, inclusive=(False, True))
        return following
    return itertools.islice(keys, bisect.bisect_right(keys, after), None)


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
