from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.run_status import RunStatus, check_run_status
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.attempt_record import AttemptRecord
    from ..models.code_version import CodeVersion
    from ..models.params import Params
    from ..models.retry_policy import RetryPolicy
    from ..models.run_snapshot_task_records import RunSnapshotTaskRecords
    from ..models.run_snapshot_tasks import RunSnapshotTasks
    from ..models.run_stopping import RunStopping
    from ..models.run_waiting import RunWaiting


T = TypeVar("T", bound="RunSnapshot")


@_attrs_define
class RunSnapshot:
    """The latest state of a run, as stored in the `pyoco_runs` key-value bucket (see
    asyncapi.yaml) and returned by the API.

    """

    run_id: str
    """ A run id (a UUID4 string for runs created by this server). """
    flow_name: str
    tag: str
    """ A routing tag; one subject token of letters, digits, `_` and `-`. """
    tags: list[str]
    status: RunStatus
    """ Status of a run. COMPLETED, FAILED and CANCELLED are terminal; CANCELLING means a cancel
    was requested and the worker is stopping the run.
     """
    params: Params
    """ Parameters of the run, passed to the flow's tasks by name. Plain JSON: no NaN or
    Infinity, text that is valid Unicode (no lone surrogate escape such as `\\ud800`), and
    arrays and objects nested at most 64 levels deep, the params object being the first;
    anything else is a 400 `invalid_input` (`invalid_request` when a JSON body cannot be
    read at all). Their JSON text counts against `PYOCO_MAX_RUN_SNAPSHOT_BYTES` (413
    beyond).
     """
    tasks: RunSnapshotTasks
    """ State of each task, by task name. """
    updated_at: float
    task_records: RunSnapshotTaskRecords | Unset = UNSET
    """ Record of each task, by task name (only with `include=records`). """
    task_records_truncated: bool | Unset = UNSET
    """ True when task records were dropped to keep the snapshot under its size limit. """
    tenant_id: None | str | Unset = UNSET
    api_key_id: None | str | Unset = UNSET
    worker_id: None | str | Unset = UNSET
    """ The worker running or last running the run. """
    attempt: int | Unset = UNSET
    """ Delivery attempt of the job that wrote this snapshot (0 before any worker took it). """
    submitted_at: float | Unset = UNSET
    start_time: float | None | Unset = UNSET
    end_time: float | None | Unset = UNSET
    heartbeat_at: float | None | Unset = UNSET
    error: None | str | Unset = UNSET
    """ Why the run failed, for a person. """
    error_reason: None | str | Unset = UNSET
    """ Why a run (or one attempt at it) failed or was cancelled, as a code (`error_reason`);
    null while it has not. (Nullable here rather than at each use: Connexion's validator
    does not apply a `nullable` beside an `allOf`.)
    Extensible like ProblemReason (and for the same reasons): a plain string whose known
    values are listed in `x-extensible-enum`; treat an unknown one as a failure for
    `error` to explain.

    | code | meaning |
    |---|---|
    | `flow_not_found` | no flow of that name on the worker |
    | `invalid_workflow` | the stored flow.yaml could not be built on the worker |
    | `callable_not_allowed` | a task's callable is not allowed on the worker; nothing was imported |
    | `code_unavailable` | a wheel the run is bound to could not be installed |
    | `execution_error` | a task raised |
    | `crashed` | the run's process died |
    | `timeout` | the run went over `timeout_sec` |
    | `max_deliveries_exceeded` | its job's deliveries ran out (its workers kept dying) |
    | `lost` | its job left the work stream while the run had not ended (expired, purged, or a redrive interrupted
    before it was queued); the server ended it |
    | `cancelled` | someone cancelled it |
     """
    workflow_yaml_sha256: None | str | Unset = UNSET
    """ SHA-256 (hex) of the uploaded flow.yaml, for YAML runs. """
    workflow_yaml_bytes: int | None | Unset = UNSET
    timeout_sec: float | None | Unset = UNSET
    """ The run's time limit in seconds, if any. """
    retry: RetryPolicy | Unset = UNSET
    """ Run a failed run again: after a task error, a crash of its process or a timeout (not
    after `flow_not_found` or a cancel). Attempt n+1 starts `backoff_sec *
    backoff_multiplier^(n-1)` seconds (at most `max_backoff_sec`) after attempt n failed.
    Retries are deliveries of the same job, so `max_attempts` is at most
    PYOCO_CONSUMER_MAX_DELIVER.
     """
    attempts: list[AttemptRecord] | Unset = UNSET
    """ Every attempt at running the run, oldest first. """
    next_attempt_at: float | None | Unset = UNSET
    """ When a retry is due, while the run waits for it (status PENDING). """
    cancel_requested_at: float | None | Unset = UNSET
    cancel_requested_by: None | str | Unset = UNSET
    """ Who asked to cancel (`api_key:<key_id>` or `address:<client address>`). """
    cancel_reason: None | str | Unset = UNSET
    job_seq: int | None | Unset = UNSET
    """ Sequence of the run's job in the work stream (set when it is queued and by the
    worker that takes it); lets the server tell a run whose job is gone from one whose
    job waits for a worker.
     """
    code: list[CodeVersion] | Unset = UNSET
    """ The wheels the run is bound to: chosen at submit (the newest for its tag, or the
    `requires` pins), installed by the worker before the run starts, and the code it ran
    with.
     """
    rerun_of: None | str | Unset = UNSET
    """ For a re-run (POST /runs/{run_id}/rerun), the run it repeats. """
    stopping: RunStopping | Unset = UNSET
    """ Why and by when a run is being stopped (set when it becomes CANCELLING, kept after):
    `cancel` (someone asked) or `timeout` (it went over `timeout_sec`); the worker kills its
    process at `deadline_at` if it has not stopped by then.
     """
    waiting: RunWaiting | Unset = UNSET
    """ Why a PENDING run has not started, worked out by the gateway when it answers (never
    stored): `no_worker` (no live worker serves its tag), `workers_busy` (the workers serving
    it are all busy; `ahead` jobs are queued before it), `retry_scheduled` (a failed attempt
    is retried at `retry_at`), or `queued` (a worker should take it at once).
     """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        run_id = self.run_id

        flow_name = self.flow_name

        tag = self.tag

        tags = self.tags

        status: str = self.status

        params = self.params.to_dict()

        tasks = self.tasks.to_dict()

        updated_at = self.updated_at

        task_records: dict[str, Any] | Unset = UNSET
        if not isinstance(self.task_records, Unset):
            task_records = self.task_records.to_dict()

        task_records_truncated = self.task_records_truncated

        tenant_id: None | str | Unset
        if isinstance(self.tenant_id, Unset):
            tenant_id = UNSET
        else:
            tenant_id = self.tenant_id

        api_key_id: None | str | Unset
        if isinstance(self.api_key_id, Unset):
            api_key_id = UNSET
        else:
            api_key_id = self.api_key_id

        worker_id: None | str | Unset
        if isinstance(self.worker_id, Unset):
            worker_id = UNSET
        else:
            worker_id = self.worker_id

        attempt = self.attempt

        submitted_at = self.submitted_at

        start_time: float | None | Unset
        if isinstance(self.start_time, Unset):
            start_time = UNSET
        else:
            start_time = self.start_time

        end_time: float | None | Unset
        if isinstance(self.end_time, Unset):
            end_time = UNSET
        else:
            end_time = self.end_time

        heartbeat_at: float | None | Unset
        if isinstance(self.heartbeat_at, Unset):
            heartbeat_at = UNSET
        else:
            heartbeat_at = self.heartbeat_at

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        error_reason: None | str | Unset
        if isinstance(self.error_reason, Unset):
            error_reason = UNSET
        else:
            error_reason = self.error_reason

        workflow_yaml_sha256: None | str | Unset
        if isinstance(self.workflow_yaml_sha256, Unset):
            workflow_yaml_sha256 = UNSET
        else:
            workflow_yaml_sha256 = self.workflow_yaml_sha256

        workflow_yaml_bytes: int | None | Unset
        if isinstance(self.workflow_yaml_bytes, Unset):
            workflow_yaml_bytes = UNSET
        else:
            workflow_yaml_bytes = self.workflow_yaml_bytes

        timeout_sec: float | None | Unset
        if isinstance(self.timeout_sec, Unset):
            timeout_sec = UNSET
        else:
            timeout_sec = self.timeout_sec

        retry: dict[str, Any] | Unset = UNSET
        if not isinstance(self.retry, Unset):
            retry = self.retry.to_dict()

        attempts: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.attempts, Unset):
            attempts = []
            for attempts_item_data in self.attempts:
                attempts_item = attempts_item_data.to_dict()
                attempts.append(attempts_item)

        next_attempt_at: float | None | Unset
        if isinstance(self.next_attempt_at, Unset):
            next_attempt_at = UNSET
        else:
            next_attempt_at = self.next_attempt_at

        cancel_requested_at: float | None | Unset
        if isinstance(self.cancel_requested_at, Unset):
            cancel_requested_at = UNSET
        else:
            cancel_requested_at = self.cancel_requested_at

        cancel_requested_by: None | str | Unset
        if isinstance(self.cancel_requested_by, Unset):
            cancel_requested_by = UNSET
        else:
            cancel_requested_by = self.cancel_requested_by

        cancel_reason: None | str | Unset
        if isinstance(self.cancel_reason, Unset):
            cancel_reason = UNSET
        else:
            cancel_reason = self.cancel_reason

        job_seq: int | None | Unset
        if isinstance(self.job_seq, Unset):
            job_seq = UNSET
        else:
            job_seq = self.job_seq

        code: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.code, Unset):
            code = []
            for code_item_data in self.code:
                code_item = code_item_data.to_dict()
                code.append(code_item)

        rerun_of: None | str | Unset
        if isinstance(self.rerun_of, Unset):
            rerun_of = UNSET
        else:
            rerun_of = self.rerun_of

        stopping: dict[str, Any] | Unset = UNSET
        if not isinstance(self.stopping, Unset):
            stopping = self.stopping.to_dict()

        waiting: dict[str, Any] | Unset = UNSET
        if not isinstance(self.waiting, Unset):
            waiting = self.waiting.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "run_id": run_id,
                "flow_name": flow_name,
                "tag": tag,
                "tags": tags,
                "status": status,
                "params": params,
                "tasks": tasks,
                "updated_at": updated_at,
            }
        )
        if task_records is not UNSET:
            field_dict["task_records"] = task_records
        if task_records_truncated is not UNSET:
            field_dict["task_records_truncated"] = task_records_truncated
        if tenant_id is not UNSET:
            field_dict["tenant_id"] = tenant_id
        if api_key_id is not UNSET:
            field_dict["api_key_id"] = api_key_id
        if worker_id is not UNSET:
            field_dict["worker_id"] = worker_id
        if attempt is not UNSET:
            field_dict["attempt"] = attempt
        if submitted_at is not UNSET:
            field_dict["submitted_at"] = submitted_at
        if start_time is not UNSET:
            field_dict["start_time"] = start_time
        if end_time is not UNSET:
            field_dict["end_time"] = end_time
        if heartbeat_at is not UNSET:
            field_dict["heartbeat_at"] = heartbeat_at
        if error is not UNSET:
            field_dict["error"] = error
        if error_reason is not UNSET:
            field_dict["error_reason"] = error_reason
        if workflow_yaml_sha256 is not UNSET:
            field_dict["workflow_yaml_sha256"] = workflow_yaml_sha256
        if workflow_yaml_bytes is not UNSET:
            field_dict["workflow_yaml_bytes"] = workflow_yaml_bytes
        if timeout_sec is not UNSET:
            field_dict["timeout_sec"] = timeout_sec
        if retry is not UNSET:
            field_dict["retry"] = retry
        if attempts is not UNSET:
            field_dict["attempts"] = attempts
        if next_attempt_at is not UNSET:
            field_dict["next_attempt_at"] = next_attempt_at
        if cancel_requested_at is not UNSET:
            field_dict["cancel_requested_at"] = cancel_requested_at
        if cancel_requested_by is not UNSET:
            field_dict["cancel_requested_by"] = cancel_requested_by
        if cancel_reason is not UNSET:
            field_dict["cancel_reason"] = cancel_reason
        if job_seq is not UNSET:
            field_dict["job_seq"] = job_seq
        if code is not UNSET:
            field_dict["code"] = code
        if rerun_of is not UNSET:
            field_dict["rerun_of"] = rerun_of
        if stopping is not UNSET:
            field_dict["stopping"] = stopping
        if waiting is not UNSET:
            field_dict["waiting"] = waiting

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.attempt_record import AttemptRecord  # noqa: PLC0415
        from ..models.code_version import CodeVersion  # noqa: PLC0415
        from ..models.params import Params  # noqa: PLC0415
        from ..models.retry_policy import RetryPolicy  # noqa: PLC0415
        from ..models.run_snapshot_task_records import RunSnapshotTaskRecords  # noqa: PLC0415
        from ..models.run_snapshot_tasks import RunSnapshotTasks  # noqa: PLC0415
        from ..models.run_stopping import RunStopping  # noqa: PLC0415
        from ..models.run_waiting import RunWaiting  # noqa: PLC0415

        d = dict(src_dict)
        run_id = d.pop("run_id")

        flow_name = d.pop("flow_name")

        tag = d.pop("tag")

        tags = cast(list[str], d.pop("tags"))

        status = check_run_status(d.pop("status"))

        params = Params.from_dict(d.pop("params"))

        tasks = RunSnapshotTasks.from_dict(d.pop("tasks"))

        updated_at = d.pop("updated_at")

        _task_records = d.pop("task_records", UNSET)
        task_records: RunSnapshotTaskRecords | Unset
        if isinstance(_task_records, Unset):
            task_records = UNSET
        else:
            task_records = RunSnapshotTaskRecords.from_dict(_task_records)

        task_records_truncated = d.pop("task_records_truncated", UNSET)

        def _parse_tenant_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        tenant_id = _parse_tenant_id(d.pop("tenant_id", UNSET))

        def _parse_api_key_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        api_key_id = _parse_api_key_id(d.pop("api_key_id", UNSET))

        def _parse_worker_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        worker_id = _parse_worker_id(d.pop("worker_id", UNSET))

        attempt = d.pop("attempt", UNSET)

        submitted_at = d.pop("submitted_at", UNSET)

        def _parse_start_time(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        start_time = _parse_start_time(d.pop("start_time", UNSET))

        def _parse_end_time(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        end_time = _parse_end_time(d.pop("end_time", UNSET))

        def _parse_heartbeat_at(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        heartbeat_at = _parse_heartbeat_at(d.pop("heartbeat_at", UNSET))

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_error_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error_reason = _parse_error_reason(d.pop("error_reason", UNSET))

        def _parse_workflow_yaml_sha256(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        workflow_yaml_sha256 = _parse_workflow_yaml_sha256(d.pop("workflow_yaml_sha256", UNSET))

        def _parse_workflow_yaml_bytes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        workflow_yaml_bytes = _parse_workflow_yaml_bytes(d.pop("workflow_yaml_bytes", UNSET))

        def _parse_timeout_sec(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        timeout_sec = _parse_timeout_sec(d.pop("timeout_sec", UNSET))

        _retry = d.pop("retry", UNSET)
        retry: RetryPolicy | Unset
        if isinstance(_retry, Unset):
            retry = UNSET
        else:
            retry = RetryPolicy.from_dict(_retry)

        _attempts = d.pop("attempts", UNSET)
        attempts: list[AttemptRecord] | Unset = UNSET
        if _attempts is not UNSET:
            attempts = []
            for attempts_item_data in _attempts:
                attempts_item = AttemptRecord.from_dict(attempts_item_data)

                attempts.append(attempts_item)

        def _parse_next_attempt_at(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        next_attempt_at = _parse_next_attempt_at(d.pop("next_attempt_at", UNSET))

        def _parse_cancel_requested_at(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        cancel_requested_at = _parse_cancel_requested_at(d.pop("cancel_requested_at", UNSET))

        def _parse_cancel_requested_by(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        cancel_requested_by = _parse_cancel_requested_by(d.pop("cancel_requested_by", UNSET))

        def _parse_cancel_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        cancel_reason = _parse_cancel_reason(d.pop("cancel_reason", UNSET))

        def _parse_job_seq(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        job_seq = _parse_job_seq(d.pop("job_seq", UNSET))

        _code = d.pop("code", UNSET)
        code: list[CodeVersion] | Unset = UNSET
        if _code is not UNSET:
            code = []
            for code_item_data in _code:
                code_item = CodeVersion.from_dict(code_item_data)

                code.append(code_item)

        def _parse_rerun_of(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        rerun_of = _parse_rerun_of(d.pop("rerun_of", UNSET))

        _stopping = d.pop("stopping", UNSET)
        stopping: RunStopping | Unset
        if isinstance(_stopping, Unset):
            stopping = UNSET
        else:
            stopping = RunStopping.from_dict(_stopping)

        _waiting = d.pop("waiting", UNSET)
        waiting: RunWaiting | Unset
        if isinstance(_waiting, Unset):
            waiting = UNSET
        else:
            waiting = RunWaiting.from_dict(_waiting)

        run_snapshot = cls(
            run_id=run_id,
            flow_name=flow_name,
            tag=tag,
            tags=tags,
            status=status,
            params=params,
            tasks=tasks,
            updated_at=updated_at,
            task_records=task_records,
            task_records_truncated=task_records_truncated,
            tenant_id=tenant_id,
            api_key_id=api_key_id,
            worker_id=worker_id,
            attempt=attempt,
            submitted_at=submitted_at,
            start_time=start_time,
            end_time=end_time,
            heartbeat_at=heartbeat_at,
            error=error,
            error_reason=error_reason,
            workflow_yaml_sha256=workflow_yaml_sha256,
            workflow_yaml_bytes=workflow_yaml_bytes,
            timeout_sec=timeout_sec,
            retry=retry,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            cancel_requested_at=cancel_requested_at,
            cancel_requested_by=cancel_requested_by,
            cancel_reason=cancel_reason,
            job_seq=job_seq,
            code=code,
            rerun_of=rerun_of,
            stopping=stopping,
            waiting=waiting,
        )

        run_snapshot.additional_properties = d
        return run_snapshot

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
