"""The operations of the pyoco-server API as data, shared by `Client` and `AsyncClient`.

Each function here builds a `Call`: the generated SDK's module for one operation, the arguments
to pass it, and how to read its answer into plain JSON (or the error it stands for). `Client`
runs a call with the module's `sync_detailed`, `AsyncClient` with its `asyncio_detailed`; the
requests and the reading of answers are written once, here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from io import BytesIO
from types import ModuleType
from typing import Any, BinaryIO, Generic, Protocol, TypeVar

from pyoco_client._errors import ProblemError, RunIdPrefixError, RunNotFound
from pyoco_client._options import RunFilters, SubmitOptions
from pyoco_client._transport import excerpt, phrase
from pyoco_server_sdk.api.dlq import list_dead_letters, redrive_dead_letter
from pyoco_server_sdk.api.health import get_health
from pyoco_server_sdk.api.ops import get_metrics
from pyoco_server_sdk.api.runs import (
    cancel_run,
    get_run,
    get_run_tasks,
    list_runs,
    rerun_run,
    submit_run,
    submit_run_yaml,
)
from pyoco_server_sdk.api.wheels import (
    delete_wheel,
    list_wheel_history,
    list_wheels,
    upload_wheel,
)
from pyoco_server_sdk.api.workers import list_workers, update_worker
from pyoco_server_sdk.models import (
    CancelRequest,
    Params,
    Problem,
    RerunRequest,
    RetryPolicy,
    RunSubmitRequest,
    RunYamlSubmitRequest,
    WheelUploadRequest,
    WorkerPatch,
)
from pyoco_server_sdk.models.dead_letter_reason import DEAD_LETTER_REASON_VALUES
from pyoco_server_sdk.models.run_status import RUN_STATUS_VALUES
from pyoco_server_sdk.models.worker_state import WORKER_STATE_VALUES
from pyoco_server_sdk.types import UNSET, File, Response, Unset

JsonObject = dict[str, Any]
"""A JSON object as decoded by `json.loads`."""

T = TypeVar("T")

RUN_STATUSES = tuple(sorted(RUN_STATUS_VALUES))
"""Every run status the API knows."""

TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
"""The statuses a run ends in."""

WORKER_STATES = tuple(sorted(WORKER_STATE_VALUES))
"""Every (derived) worker state the API knows."""

DEAD_LETTER_REASONS = tuple(sorted(DEAD_LETTER_REASON_VALUES))
"""Every reason a job is dead-lettered for."""

_RUN_NOT_FOUND = "run_not_found"
"""The `reason` of the server's problem when a run id is unknown."""

_FULL_RUN_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_RUN_ID_PREFIX = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PREFIX_MATCHES = 3
"""Runs a prefix lookup asks for: enough to tell one match from several, and to name a few."""


class _Model(Protocol):
    """What every model of the generated SDK offers."""

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request: the SDK module of its operation, its arguments, how to read its answer.

    Attributes:
        operation: The generated module (`pyoco_server_sdk.api.runs.get_run`, ...).
        args: Positional arguments of the module's functions (path parameters).
        kwargs: Keyword arguments of the module's functions (body, query, headers).
        read: Turns the SDK's `Response` into the result, or raises the error it stands for.
    """

    operation: ModuleType
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    read: Callable[[Response[Any]], T]


def health() -> Call[JsonObject]:
    """`GET /health`."""
    return Call(get_health, (), {}, read_object)


def submit(
    flow_name: str, params: Mapping[str, Any] | None, options: SubmitOptions
) -> Call[JsonObject]:
    """`POST /runs`; raises ValueError or TypeError here for params JSON cannot carry."""
    body = RunSubmitRequest(
        flow_name=flow_name,
        params=UNSET if params is None else Params.from_dict(_json_copy(params)),
        tag=given(options.tag),
        tags=UNSET if options.tags is None else list(options.tags),
        timeout_sec=given(options.timeout_sec),
        retry=UNSET if options.retry is None else RetryPolicy.from_dict(_json_copy(options.retry)),
        requires=UNSET if not options.requires else list(options.requires),
    )
    headers = {"idempotency_key": given(options.idempotency_key)}
    return Call(submit_run, (), {"body": body, **headers}, read_object)


def submit_yaml(
    workflow: bytes,
    flow_name: str,
    params: Mapping[str, Any] | None,
    file_name: str,
    options: SubmitOptions,
) -> Call[JsonObject]:
    """`POST /runs/yaml`; raises ValueError or TypeError here for params JSON cannot carry."""
    retry = options.retry
    body = RunYamlSubmitRequest(
        workflow=File(payload=BytesIO(workflow), file_name=file_name),
        flow_name=flow_name,
        tag=given(options.tag),
        params=UNSET if params is None else Params.from_dict(_json_copy(params)),
        tags=UNSET if options.tags is None else ",".join(options.tags),
        timeout_sec=given(options.timeout_sec),
        retry=UNSET if retry is None else RetryPolicy.from_dict(_json_copy(retry)),
        requires=UNSET if not options.requires else ",".join(options.requires),
    )
    headers = {"idempotency_key": given(options.idempotency_key)}
    return Call(submit_run_yaml, (), {"body": body, **headers}, read_object)


def rerun(
    run_id: str,
    params: Mapping[str, Any] | None,
    tag: str | None,
    idempotency_key: str | None,
    timeout_sec: float | None = None,
) -> Call[JsonObject]:
    """`POST /runs/{run_id}/rerun`; raises ValueError or TypeError for params JSON cannot carry."""
    body = RerunRequest(
        params=UNSET if params is None else Params.from_dict(_json_copy(params)),
        tag=given(tag),
        timeout_sec=given(timeout_sec),
    )
    kwargs = {"body": body, "idempotency_key": given(idempotency_key)}
    return Call(rerun_run, (run_id,), kwargs, read_run(run_id))


def get(run_id: str, records: bool) -> Call[JsonObject]:
    """`GET /runs/{run_id}`, with `include=records` when `records`."""
    include = ["records"] if records else UNSET
    return Call(get_run, (run_id,), {"include": include}, read_run(run_id))


def tasks(run_id: str) -> Call[JsonObject]:
    """`GET /runs/{run_id}/tasks`."""
    return Call(get_run_tasks, (run_id,), {}, read_run(run_id))


def cancel(run_id: str, reason: str | None) -> Call[JsonObject]:
    """`POST /runs/{run_id}/cancel`, with the reason when there is one."""
    body = UNSET if reason is None else CancelRequest(reason=reason)
    return Call(cancel_run, (run_id,), {"body": body}, read_run(run_id))


def runs_page(filters: RunFilters, limit: int, cursor: str | None) -> Call[JsonObject]:
    """`GET /runs`: one page, `{"items": [...], "next_cursor": ...}`."""
    query = {name: given(value) for name, value in filters.items()}
    return Call(list_runs, (), {**query, "limit": limit, "cursor": given(cursor)}, read_object)


def needs_lookup(run_id: str) -> bool:
    """True when `run_id` may be a short run id to look up as a prefix.

    Not for a whole run id of this server (a UUID), nor for a text no run id can start with
    (ids are letters, digits, '_' and '-'), which the server answers about.
    """
    return _FULL_RUN_ID.fullmatch(run_id) is None and _RUN_ID_PREFIX.fullmatch(run_id) is not None


def resolve_run_id(prefix: str) -> Call[str]:
    """`GET /runs?run_id_prefix=`: the one run id that starts with `prefix` (or is `prefix`).

    Its `read` raises `RunIdPrefixError` when no run id or several start with `prefix`.
    """

    def read(response: Response[Any]) -> str:
        found: list[str] = [item["run_id"] for item in read_object(response)["items"]]
        matches = tuple(run_id for run_id in found if run_id.startswith(prefix))
        if prefix in matches:
            return prefix
        if len(matches) != 1:
            raise RunIdPrefixError(prefix, matches, more=len(found) >= _PREFIX_MATCHES)
        return matches[0]

    kwargs = {"run_id_prefix": prefix, "limit": _PREFIX_MATCHES}
    return Call(list_runs, (), kwargs, read)


def workers(
    scope: str, state: str | None, include_hidden: bool, limit: int
) -> Call[list[JsonObject]]:
    """`GET /workers`: the first page's workers (`limit` of them at most)."""
    kwargs = {
        "scope": scope,
        "state": given(state),
        "include_hidden": include_hidden,
        "limit": limit,
    }
    return Call(list_workers, (), kwargs, read_items)


def read_items(response: Response[Any]) -> list[JsonObject]:
    """The `items` of a page answer."""
    items: list[JsonObject] = read_object(response)["items"]
    return items


def set_worker_hidden(worker_id: str, hidden: bool) -> Call[JsonObject]:
    """`PATCH /workers/{worker_id}`."""
    return Call(update_worker, (worker_id,), {"body": WorkerPatch(hidden=hidden)}, read_object)


def dead_letters_page(
    reason: str | None, tag: str | None, limit: int, cursor: str | None
) -> Call[JsonObject]:
    """`GET /dlq`: one page, `{"items": [...], "next_cursor": ...}`."""
    kwargs = {"reason": given(reason), "tag": given(tag), "limit": limit, "cursor": given(cursor)}
    return Call(list_dead_letters, (), kwargs, read_object)


def redrive(dead_letter_id: str) -> Call[JsonObject]:
    """`POST /dlq/{dead_letter_id}/redrive`."""
    return Call(redrive_dead_letter, (dead_letter_id,), {}, read_object)


def wheels() -> Call[list[JsonObject]]:
    """`GET /wheels`."""
    return Call(list_wheels, (), {}, read_objects)


def wheel_history(limit: int, wheel_name: str | None, action: str | None) -> Call[list[JsonObject]]:
    """`GET /wheels/history`."""
    kwargs = {"limit": limit, "wheel_name": given(wheel_name), "action": given(action)}
    return Call(list_wheel_history, (), kwargs, read_objects)


def wheel_upload(
    payload: BinaryIO, file_name: str, tags: str | None, replace: bool
) -> Call[JsonObject]:
    """`POST /wheels`, streaming `payload`."""
    body = WheelUploadRequest(
        wheel=File(payload=payload, file_name=file_name, mime_type="application/octet-stream"),
        tags=given(tags),
        replace=replace,
    )
    return Call(upload_wheel, (), {"body": body}, read_object)


def wheel_delete(name: str) -> Call[JsonObject]:
    """`DELETE /wheels/{wheel_name}`."""
    return Call(delete_wheel, (name,), {}, read_object)


def metrics() -> Call[str]:
    """`GET /metrics`: the Prometheus text."""
    return Call(get_metrics, (), {}, read_text)


def given(value: T | None) -> T | Unset:
    """`value`, or the SDK's UNSET for None (a parameter left out)."""
    return UNSET if value is None else value


def read_object(response: Response[Any]) -> JsonObject:
    """The answer as a JSON object."""
    model: _Model = _parsed(response)
    return model.to_dict()


def read_objects(response: Response[Any]) -> list[JsonObject]:
    """The answer as a list of JSON objects."""
    models: list[_Model] = _parsed(response)
    return [model.to_dict() for model in models]


def read_text(response: Response[Any]) -> str:
    """The answer as text."""
    text: str = _parsed(response)
    return text


def read_run(run_id: str) -> Callable[[Response[Any]], JsonObject]:
    """`read_object`, raising `RunNotFound` when the server has no run `run_id`."""

    def read(response: Response[Any]) -> JsonObject:
        try:
            return read_object(response)
        except ProblemError as exc:
            raise run_problem(run_id, exc) from None

    return read


def run_problem(run_id: str, problem: ProblemError) -> ProblemError:
    """`RunNotFound` if `problem` says the run `run_id` does not exist, else `problem`."""
    if problem.status == HTTPStatus.NOT_FOUND and problem.reason == _RUN_NOT_FOUND:
        return RunNotFound(run_id, problem)
    return problem


def problem_of_content(status: int, content: bytes) -> ProblemError:
    """The problem an error answer's body describes (or a stand-in when it describes none)."""
    try:
        return _problem_error(Problem.from_dict(json.loads(content)))
    except (ValueError, KeyError, TypeError):
        return ProblemError(status, phrase(status), excerpt(content.decode(errors="replace")), None)


def _parsed(response: Response[Any]) -> Any:
    parsed = response.parsed
    if isinstance(parsed, Problem):
        raise _problem_error(parsed)
    if parsed is None:
        # An operation without problem responses in the contract (health) got an error.
        raise problem_of_content(response.status_code, response.content)
    return parsed


def _problem_error(problem: Problem) -> ProblemError:
    return ProblemError(
        problem.status,
        problem.title,
        None if isinstance(problem.detail, Unset) else problem.detail,
        None if isinstance(problem.reason, Unset) else problem.reason,
    )


def _json_copy(params: Mapping[str, Any]) -> JsonObject:
    """A copy of `params` as JSON decodes it; raises here, not inside the SDK, on non-JSON."""
    copy: JsonObject = json.loads(json.dumps(params, allow_nan=False))
    return copy
