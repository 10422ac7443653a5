"""Idempotent submits: the same Idempotency-Key (per tenant) returns the same run.

The gateway records, under a hash of the tenant and the key, which run the first submit created
and a hash of its request, with a KV create made before the run is submitted, so of two
concurrent submits with one key exactly one creates a run. A repeated key with the same request
gets the recorded answer once the run is stored (before that: 409, retry shortly), with the
run's status as it is now; with a different request it is refused, since the client evidently
reused a key by mistake. A submit that fails releases its key, so a retry can succeed. One whose
job may have been queued (`SubmitOutcomeUnknown`) keeps it: a retry after `IN_PROGRESS_SEC`
submits again under the recorded run id, and JetStream drops the second job if the first was
queued (its `Nats-Msg-Id` is the run id), so the key never makes two runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from pyoco_server.aio import through_flaps
from pyoco_server.domain.errors import (
    BackendUnavailable,
    IdempotencyConflict,
    IdempotencyInProgress,
    RevisionConflict,
    RunNotFound,
    SubmitOutcomeUnknown,
)
from pyoco_server.domain.records import IdempotencyRecord
from pyoco_server.domain.snapshot import RunSnapshot
from pyoco_server.ports import IdempotencyKeys
from pyoco_server.services.runs import RunService, Submission

log = logging.getLogger(__name__)

_FORGET_BACKOFF_SEC = (0.1, 0.3, 1.0)
"""A key is released through a short flap (a cluster electing a leader), not pinned for
IN_PROGRESS_SEC by it."""

IN_PROGRESS_SEC = 30.0
"""How long a recorded key whose run is not stored yet counts as a submit in progress; after
that its submit evidently failed without releasing the key, and the key is free again."""


def key_hash(tenant_id: str | None, key: str) -> str:
    """The bucket key for a client's Idempotency-Key (a hash: any printable key is allowed)."""
    return hashlib.sha256(f"{tenant_id or ''}\0{key}".encode()).hexdigest()


def request_hash(request: Mapping[str, Any]) -> str:
    """A hash of what a submit asked for, independent of key order."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclasses.dataclass(frozen=True, slots=True)
class Accepted:
    """The answer to a submit (openapi.yaml `RunAccepted`), and whether it is a replay."""

    response: Mapping[str, Any]
    replayed: bool = False

    @property
    def run_id(self) -> str:
        """The run's id."""
        return str(self.response["run_id"])


def accepted(snapshot: RunSnapshot) -> dict[str, Any]:
    """The `RunAccepted` body for a run just stored."""
    return _answer(
        snapshot.run_id, snapshot.status.value, snapshot.flow_name, snapshot.tag, snapshot.rerun_of
    )


def _answer(
    run_id: str, status: str, flow_name: str, tag: str, rerun_of: str | None
) -> dict[str, Any]:
    answer = {"run_id": run_id, "status": status, "flow_name": flow_name, "tag": tag}
    if rerun_of is not None:
        answer["rerun_of"] = rerun_of
    return answer


class IdempotentSubmits:
    """Submits that honour an Idempotency-Key (see the module docstring)."""

    def __init__(
        self,
        service: RunService,
        keys: IdempotencyKeys,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._service = service
        self._keys = keys
        self._clock = clock

    async def submit(self, submission: Submission, key: str | None = None) -> Accepted:
        """Submit, or return the run an earlier submit with the same `key` created.

        Raises:
            IdempotencyConflict: `key` was used for a different request.
        """
        if key is None:
            return Accepted(accepted(await self._service.submit(submission)))
        self._service.check(submission)
        # Runs submitted without a tenant belong to the default tenant: one namespace of keys.
        tenant = submission.tenant_id
        hashed = key_hash(None if tenant == self._service.default_tenant else tenant, key)
        fingerprint = request_hash(_request_of(submission))
        earlier = await self._keys.get(hashed)
        if earlier is None:
            return await self._first(submission, hashed, fingerprint, self._service.new_run_id())
        replay = await self._replay(earlier, fingerprint, submission.tenant_id)
        if replay is not None:
            return replay
        # Stale: its submit failed and could not release the key, or may have queued the job
        # (`SubmitOutcomeUnknown`). The same run id again: a job that is queued is the same run.
        await self._keys.delete(hashed)
        return await self._first(submission, hashed, fingerprint, earlier.run_id)

    async def _replay(
        self, record: IdempotencyRecord, fingerprint: str, tenant_id: str | None
    ) -> Accepted | None:
        """The recorded answer; None when the record is stale (its run was never stored).

        Raises:
            IdempotencyConflict: the record is of a different request.
            IdempotencyInProgress: the first submit has not stored its run yet.
        """
        if record.request_sha256 != fingerprint:
            raise IdempotencyConflict()
        try:
            stored = await self._service.get(record.run_id, tenant_id)
        except RunNotFound:
            if self._clock() - record.created_at < IN_PROGRESS_SEC:
                raise IdempotencyInProgress() from None
            return None
        now = {**record.response, "status": stored.snapshot.status.value}
        return Accepted(now, replayed=True)

    async def _first(
        self, submission: Submission, hashed: str, fingerprint: str, run_id: str
    ) -> Accepted:
        tag = submission.tag or self._service.default_tag
        response = _answer(run_id, "PENDING", submission.flow_name, tag, submission.rerun_of)
        record = IdempotencyRecord(run_id, fingerprint, self._clock(), response)
        try:
            await self._keys.create(hashed, record)
        except RevisionConflict:
            raced = await self._keys.get(hashed)  # a concurrent submit with the same key won
            replay = None
            if raced is not None:
                replay = await self._replay(raced, fingerprint, submission.tenant_id)
            if replay is None:
                raise BackendUnavailable("idempotency key changed concurrently; retry") from None
            return replay
        try:
            snapshot = await self._service.submit(submission, run_id)
        except SubmitOutcomeUnknown:
            raise  # the run may still happen: the key must find it, not make a second one
        except BaseException as exc:  # whatever stopped the submit, release the key, re-raise
            await self._forget(hashed, exc)
            raise
        return Accepted(accepted(snapshot))

    async def _forget(self, hashed: str, cause: BaseException) -> None:
        """A failed submit must not pin its key: a retry with it must be able to submit."""
        try:
            await through_flaps(lambda: self._keys.delete(hashed), _FORGET_BACKOFF_SEC)
        except BackendUnavailable as exc:
            log.error("idempotency key of a failed submit (%s) not released: %s", cause, exc)


def _request_of(submission: Submission) -> dict[str, Any]:
    request = {
        "flow_name": submission.flow_name,
        "params": dict(submission.params),
        "tag": submission.tag,
        "tags": list(submission.tags),
        "timeout_sec": _seconds(submission.timeout_sec),
        "retry": dataclasses.asdict(submission.retry) if submission.retry else None,
        "workflow_yaml_sha256": submission.workflow.sha256 if submission.workflow else None,
        "requires": list(submission.requires),
    }
    if submission.rerun_of is not None:  # only then: keys recorded before re-runs still match
        request["rerun_of"] = submission.rerun_of
    return request


def _seconds(value: float | None) -> float | int | None:
    """A number of seconds as hashed: 90 and 90.0 ask for the same.

    Hashed as an int, as most clients send it, so that keys recorded before still match. A run's
    params are the caller's data, where the two may differ, and are hashed as sent.
    """
    if value is not None and float(value).is_integer():
        return int(value)
    return value
