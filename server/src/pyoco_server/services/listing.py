"""What a run listing asks and answers: run summaries, filters, pages and their cursors.

A listing is ordered by `(submitted_at, run_id)`, descending. Both are fixed when a run is
created, so a run never moves in the order: a cursor (the key of the last run of a page)
continues exactly below it, and paging never skips or repeats a run however runs change state
meanwhile. The run index (services/index.py) answers listings.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from pyoco_server.domain.errors import InvalidInput

OrderKey = tuple[float, str]
"""`(-submitted_at, run_id)`: ascending order of these keys is newest submitted first."""

SECONDARY = ("status", "flow_name", "tag", "tenant_id", "workflow_yaml_sha256")
LABEL = "label"
"""The filter on one of a run's `tags` (`Filters.equalities` keys it so)."""

INDEX_ERROR_CHARS = 160
"""The index keeps only the start of a run's error (GET /runs/{id} has all of it)."""

PREFIX_SORTED_MAX = 1000
"""Runs matching a `run_id_prefix` that are sorted into a list of their own; beyond, the prefix
is checked on the candidates (a one-character prefix of UUIDs matches one run in 16)."""


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
            flow_name=data["flow_name"],
            tag=data["tag"],
            tags=tuple(get("tags") or ()),
            status=data["status"],
            submitted_at=float(get("submitted_at", data["updated_at"])),
            updated_at=float(data["updated_at"]),
            start_time=get("start_time"),
            end_time=get("end_time"),
            worker_id=get("worker_id"),
            attempt=int(get("attempt", 0)),
            error=_short(get("error")),
            error_reason=get("error_reason"),
            tenant_id=get("tenant_id"),
            workflow_yaml_sha256=get("workflow_yaml_sha256"),
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
        found = {name: value for name in SECONDARY if (value := getattr(self, name)) is not None}
        if self.label is not None:
            found[LABEL] = self.label
        return found


@dataclasses.dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing; `next_cursor` is None when nothing is left."""

    items: list[Summary]
    next_cursor: str | None


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
