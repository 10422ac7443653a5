"""Submitting and reading runs: the gateway's domain logic, independent of HTTP and of NATS."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pyoco_server.aio import through_flaps
from pyoco_server.domain import names
from pyoco_server.domain.cas import compare_and_set
from pyoco_server.domain.codec import MAX_NESTING, check_finite, check_nesting, dumps
from pyoco_server.domain.errors import (
    BackendUnavailable,
    InvalidInput,
    PayloadTooLarge,
    RevisionConflict,
    RunNotFound,
    SubmitOutcomeUnknown,
    WorkflowNotStored,
)
from pyoco_server.domain.records import CancelNotice, Job, RetryPolicy
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus
from pyoco_server.domain.trust import TaskPolicy
from pyoco_server.domain.workflow import Workflow, check_params
from pyoco_server.ports import CancelNotifier, JobQueue, RunStore, StoredSnapshot, WorkStream
from pyoco_server.services.binding import RunCode
from pyoco_server.services.workflows import WorkflowTexts

log = logging.getLogger(__name__)

_RETRY_BACKOFF_SEC = (0.1, 0.3, 1.0)
"""Waits between attempts to store the run of a submit, then to withdraw its job."""


@dataclasses.dataclass(frozen=True, slots=True)
class Submission:
    """What a client asked to run."""

    flow_name: str
    params: Mapping[str, Any]
    tag: str | None = None
    tags: Sequence[str] = ()
    workflow: Workflow | None = None
    tenant_id: str | None = None
    api_key_id: str | None = None
    timeout_sec: float | None = None
    retry: RetryPolicy | None = None
    requires: Sequence[str] = ()
    """Pinned wheel versions (`dist==version`) instead of the newest for the tag."""
    task_modules: Sequence[str] | None = None
    """The modules the submitter's key is limited to, if it is."""
    rerun_of: str | None = None
    """For a re-run, the run it repeats."""


class RunService:
    """Creates runs (the job, then the PENDING snapshot) and reads their snapshots."""

    def __init__(
        self,
        store: RunStore,
        queue: JobQueue,
        settings: Settings,
        *,
        notifier: CancelNotifier | None = None,
        code: RunCode | None = None,
        work: WorkStream | None = None,
        workflows: WorkflowTexts | None = None,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        on_new_id: Callable[[str], None] = lambda _run_id: None,
    ) -> None:
        self._store = store
        self._queue = queue
        self._work = work
        self._code = code or RunCode(
            None, TaskPolicy(settings.task_modules, settings.task_allow_all)
        )
        self._notifier = notifier
        self._workflows = workflows
        self._settings = settings
        self._clock = clock
        self._new_id = new_id
        self._on_new_id = on_new_id
        """Told each run id this service makes, before anything is stored under it (the run
        index: `RunIndex.creating`)."""

    @property
    def default_tag(self) -> str:
        """The tag of runs submitted without one."""
        return self._settings.default_tag

    @property
    def default_tenant(self) -> str:
        """The tenant of runs submitted without one (API keys off)."""
        return self._settings.default_tenant

    def new_run_id(self) -> str:
        """A fresh run id (to reserve one before submitting, as idempotent submits do)."""
        run_id = self._new_id()
        self._on_new_id(run_id)
        return run_id

    async def submit(self, submission: Submission, run_id: str | None = None) -> RunSnapshot:
        """Queue the run's job, then store the run as PENDING (as run `run_id`, default new).

        In this order no stored run lacks its job, whatever stops the gateway between the two
        steps: a run that is visible will run. A worker that gets the job before the run is
        stored stores it itself (then this store finds it there, which is fine). A store that
        fails is tried again through a short flap; if it still fails the job is withdrawn and
        the error propagates. A job that is gone already was taken by a worker, which stores the
        run: the submit succeeded. A job that cannot be withdrawn either may still run:
        `SubmitOutcomeUnknown` (a retry with the same Idempotency-Key gets that run).

        A job whose publish got no answer may have been queued: it is published once more
        (JetStream drops a second copy, its `Nats-Msg-Id` being the run id); if that gets no
        answer either, `SubmitOutcomeUnknown`.

        A flow.yaml this process has not stored lately is stored for re-runs meanwhile
        (`WorkflowTexts`); a submit of a known file makes no extra round trip.
        """
        job = self._job(submission, run_id or self.new_run_id())
        workflow = submission.workflow
        try:
            if workflow and self._workflows and self._workflows.needs_storing(workflow):
                seq, _ = await asyncio.gather(
                    self._queue.publish(job), self._workflows.keep(workflow)
                )
            else:
                seq = await self._queue.publish(job)
        except BackendUnavailable as failure:
            if not failure.uncertain:
                raise  # nothing was queued
            seq = await self._publish_again(job, failure)
        snapshot = RunSnapshot.pending(job, job_seq=seq)
        try:
            await self._store_pending(snapshot)
        except BackendUnavailable as failure:
            withdrawn = await self._withdraw(job.run_id, seq, failure)
            if not withdrawn:
                return snapshot  # a worker took the job and stores the run itself
            raise
        return snapshot

    async def _publish_again(self, job: Job, failure: BackendUnavailable) -> int:
        """The job's sequence after a publish that may or may not have queued it."""
        log.warning("run %s: job publish unanswered (%s); publishing it again", job.run_id, failure)
        await asyncio.sleep(_RETRY_BACKOFF_SEC[0])
        try:
            return await self._queue.publish(job)
        except BackendUnavailable as again:  # whatever it says, the first may have queued it
            raise SubmitOutcomeUnknown(job.run_id, again.detail) from again

    async def _store_pending(self, snapshot: RunSnapshot) -> None:
        """Store a new run as PENDING, trying again through a short flap."""

        async def create() -> None:
            with contextlib.suppress(RevisionConflict):  # a worker took the job and stored it
                await self._store.create(snapshot)

        await through_flaps(create, _RETRY_BACKOFF_SEC)

    def check(self, submission: Submission) -> None:
        """Refuse an invalid submission (`InvalidInput`, `PayloadTooLarge`) without storing it."""
        self._job(submission, "check")

    def _job(self, submission: Submission, run_id: str) -> Job:
        _check_names(submission)
        params = dict(submission.params)
        size = _encoded_size(params)
        limit = self._settings.max_run_snapshot_bytes
        if size > limit:
            raise PayloadTooLarge("params", size, limit, "PYOCO_MAX_RUN_SNAPSHOT_BYTES")
        tag = submission.tag or self._settings.default_tag
        workflow = submission.workflow
        if workflow is not None:
            check_params(workflow, params)  # a typo must not run with the default
        self._check_retry(submission.retry)
        narrowed = tuple(submission.task_modules) if submission.task_modules is not None else None
        code = self._code.bind(
            tag, requires=submission.requires, workflow=workflow, narrowed=narrowed
        )
        return Job(
            run_id=run_id,
            flow_name=submission.flow_name,
            tag=tag,
            tags=tuple(submission.tags) or (tag,),
            params=params,
            submitted_at=self._clock(),
            tenant_id=submission.tenant_id or self._settings.default_tenant,
            api_key_id=submission.api_key_id,
            workflow_yaml=workflow.text if workflow else None,
            workflow_yaml_sha256=workflow.sha256 if workflow else None,
            workflow_yaml_bytes=workflow.size if workflow else None,
            timeout_sec=submission.timeout_sec or self._settings.run_timeout_sec or None,
            retry=submission.retry,
            code=code,
            task_modules=narrowed,
            rerun_of=submission.rerun_of,
        )

    def _check_retry(self, retry: RetryPolicy | None) -> None:
        limit = self._settings.consumer_max_deliver
        if retry is not None and retry.max_attempts > limit:
            raise InvalidInput(
                f"retry.max_attempts is {retry.max_attempts}, but a job is delivered at most "
                f"{limit} times (PYOCO_CONSUMER_MAX_DELIVER); ask for {limit} or fewer"
            )

    async def _withdraw(self, run_id: str, seq: int, failure: BackendUnavailable) -> bool:
        """Remove the job of a submit whose run could not be stored, trying through a flap.

        True: withdrawn, the run will not happen. False: already gone, so a worker took it and
        stores the run itself. `SubmitOutcomeUnknown`: it could not be removed and may still run.
        """
        if self._work is None:
            return True
        work = self._work
        try:
            return await through_flaps(lambda: work.delete(seq), _RETRY_BACKOFF_SEC)
        except BackendUnavailable as exc:
            log.error("run %s: job of a failed submit not withdrawn: %s", run_id, exc)
            raise SubmitOutcomeUnknown(run_id, failure.detail) from exc

    async def get(self, run_id: str, tenant_id: str | None = None) -> StoredSnapshot:
        """The latest snapshot of a run.

        Raises `RunNotFound` when there is none, and when `tenant_id` is given and the run
        belongs to another tenant (so its existence does not leak).
        """
        if not names.is_run_id(run_id):
            raise InvalidInput(f"{run_id!r} is not a run id; use the id a submit call returned")
        stored = await self._store.get(run_id)
        if stored is None or not self.visible(stored.snapshot, tenant_id):
            raise RunNotFound(run_id)
        return stored

    async def history(self, run_id: str, tenant_id: str | None = None) -> list[StoredSnapshot]:
        """The kept revisions of a run's snapshot, oldest first (`RunNotFound` as for `get`)."""
        revisions = await self._store.history(run_id)
        if not revisions or not self.visible(revisions[-1].snapshot, tenant_id):
            raise RunNotFound(run_id)
        return revisions

    def visible(self, snapshot: RunSnapshot, tenant_id: str | None) -> bool:
        """True when a caller limited to `tenant_id` (None: not limited) may see the run.

        A run stored without a tenant (submitted while API keys were off, before
        PYOCO_DEFAULT_TENANT) belongs to the default tenant.
        """
        if tenant_id is None:
            return True
        return (snapshot.tenant_id or self._settings.default_tenant) == tenant_id

    async def workflow_text(self, sha256: str) -> bytes | None:
        """The stored flow.yaml with this SHA-256, or None when it is not (or no longer) kept."""
        return await self._workflows.raw(sha256) if self._workflows is not None else None

    async def rerun_source(
        self, run_id: str, tenant_id: str | None = None
    ) -> tuple[RunSnapshot, bytes | None]:
        """The run to run again and, for a flow.yaml run, its file.

        Raises:
            RunNotFound: as for `get`.
            WorkflowNotStored: the run's flow.yaml is no longer kept.
        """
        original = (await self.get(run_id, tenant_id)).snapshot
        sha256 = original.workflow_yaml_sha256
        if sha256 is None:
            return original, None
        raw = await self.workflow_text(sha256)
        if raw is None:
            raise WorkflowNotStored(run_id, sha256)
        return original, raw

    async def cancel(
        self,
        run_id: str,
        *,
        requested_by: str | None,
        reason: str | None,
        tenant_id: str | None = None,
    ) -> RunSnapshot:
        """Ask a run to stop (see `RunSnapshot.cancel_requested`); the snapshot after it.

        The write is a compare-and-set retried on conflict, so a cancel is never lost to a
        worker's concurrent write; workers running the run are notified once it is CANCELLING.
        """

        async def attempt() -> tuple[RunSnapshot, bool]:
            stored = await self.get(run_id, tenant_id)
            changed = stored.snapshot.cancel_requested(self._clock(), requested_by, reason)
            if changed is stored.snapshot:
                return changed, False
            await self._store.update(changed, stored.revision)
            return changed, True

        changed, written = await compare_and_set(attempt, what=f"run {run_id}")
        if written and changed.status is RunStatus.CANCELLING:
            await self._notify(changed)
        return changed

    async def _notify(self, snapshot: RunSnapshot) -> None:
        if self._notifier is None or snapshot.cancel_requested_at is None:
            return
        notice = CancelNotice(
            run_id=snapshot.run_id,
            requested_at=snapshot.cancel_requested_at,
            requested_by=snapshot.cancel_requested_by,
            reason=snapshot.cancel_reason,
        )
        try:
            await self._notifier.notify(notice)
        except BackendUnavailable as exc:
            # The CANCELLING write stands; the worker finds it at its next write.
            log.warning("run %s: cancel notice not sent: %s", snapshot.run_id, exc)


def _check_names(submission: Submission) -> None:
    if not names.is_flow_name(submission.flow_name):
        raise InvalidInput(
            "flow_name must be printable text (no control characters) with a non-blank character"
        )
    if submission.tag is not None and not names.is_tag(submission.tag):
        raise InvalidInput(f"tag {submission.tag!r} is invalid: use {names.TAG_RULE}")


def _encoded_size(params: dict[str, Any]) -> int:
    """The size of `params` as JSON, or `InvalidInput` saying why they are not plain JSON."""
    try:
        check_nesting(params)
    except ValueError:
        raise InvalidInput(
            f"params nest arrays and objects more than {MAX_NESTING} levels deep (the params "
            "object is the first); pass deeper data flattened, or as JSON text in a string"
        ) from None
    try:
        check_finite(params)
        return len(dumps(params))
    except UnicodeEncodeError:
        raise InvalidInput(
            "params hold text that is not valid Unicode (a lone surrogate escape such as "
            "\\ud800); send text as UTF-8 or as escapes of whole characters"
        ) from None
    except (TypeError, ValueError):
        raise InvalidInput("params must be plain JSON; NaN and Infinity are not allowed") from None


def rerun_of(
    original: RunSnapshot,
    workflow: Workflow | None,
    *,
    params: Mapping[str, Any] | None = None,
    tag: str | None = None,
    timeout_sec: float | None = None,
) -> Submission:
    """The submission that runs `original` again (`POST /runs/{run_id}/rerun`).

    The same flow (`workflow`: its flow.yaml, parsed again), params with `params` merged over
    them key by key, tag unless `tag` is given, labels, time limit unless `timeout_sec` is
    given, retry policy and tenant, and the code it ran with pinned (`requires`). Labels that
    were only the original's tag follow a new `tag`. The caller stamps its own key
    (`api_key_id`, `task_modules`).
    """
    labels = original.tags if original.tags != (original.tag,) else ()
    return Submission(
        flow_name=original.flow_name,
        params={**original.params, **(params or {})},
        tag=tag or original.tag,
        tags=labels,
        workflow=workflow,
        tenant_id=original.tenant_id,
        timeout_sec=timeout_sec or original.timeout_sec,
        retry=original.retry,
        requires=tuple(f"{code.distribution}=={code.version}" for code in original.code),
        rerun_of=original.run_id,
    )
