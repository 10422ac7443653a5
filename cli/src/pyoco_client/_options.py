"""The options of requests that take many: the filters of a run listing, the extras of a submit.

`Client` and `AsyncClient` take them as keyword arguments; `_calls` turns them into requests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict


class RunFilters(TypedDict, total=False):
    """The filters of `Client.list` and `list_page` (`GET /runs`); None leaves a filter out.

    Attributes:
        status: Only runs in this status.
        run_id_prefix: Only runs whose id starts with this text.
        label: Only runs carrying this label (one of the `tags` given at submit).
        tenant: Only runs of this tenant (admin keys: any tenant; user keys: their own).
        flow: Only runs of this flow name.
        tag: Only runs routed to this tag.
        updated_after: Only runs changed after this Unix time.
        workflow_yaml_sha256: Only runs of the flow.yaml with this SHA-256 (hex).
    """

    status: str | None
    run_id_prefix: str | None
    label: str | None
    tenant: str | None
    flow: str | None
    tag: str | None
    updated_after: float | None
    workflow_yaml_sha256: str | None


@dataclass(frozen=True)
class SubmitOptions:
    """What both submits (and their CLI commands) may add to a run besides flow and params.

    Attributes:
        tag: Routing tag; None for the server's default tag.
        tags: Labels stored with the run.
        idempotency_key: Submitting again with this key returns the first run.
        requires: Registry wheel versions to run with (`["my_ext==0.1.0"]`).
        timeout_sec: Seconds the run may take once a worker starts it.
        retry: A retry policy (`{"max_attempts": 3, "backoff_sec": 5}`; see RetryPolicy).
    """

    tag: str | None = None
    tags: Sequence[str] | None = None
    idempotency_key: str | None = None
    requires: Sequence[str] | None = None
    timeout_sec: float | None = None
    retry: Mapping[str, Any] | None = None
