from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.run_status import RunStatus, check_run_status
from ..models.worker_state import WorkerState, check_worker_state
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.wheel_state import WheelState


T = TypeVar("T", bound="WorkerRecord")


@_attrs_define
class WorkerRecord:
    """A worker's registry record (the `pyoco_workers` bucket, see asyncapi.yaml). The API shows
    the derived state: DISCONNECTED when the record is stale.

    """

    worker_id: str
    """ A worker's name (letters, digits, `_`, `-`, `=`, and inner dots). """
    instance_id: str
    """ Unique to one run of the worker process. """
    state: WorkerState
    """ RUNNING: runs at least one run; IDLE: runs none; STOPPED_GRACEFUL: stopped after
    SIGTERM or SIGINT; DISCONNECTED: not heard from for PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC.
     """
    hidden: bool
    tags: list[str]
    concurrency: int
    current_run_ids: list[str]
    """ The runs the worker holds now. """
    started_at: float
    last_seen_at: float
    updated_at: float
    stopped_at: float | None | Unset = UNSET
    stop_reason: None | str | Unset = UNSET
    hostname: None | str | Unset = UNSET
    pid: int | None | Unset = UNSET
    version: None | str | Unset = UNSET
    runs_completed: int | Unset = UNSET
    """ Runs this worker instance ended COMPLETED. """
    runs_failed: int | Unset = UNSET
    """ Runs this worker instance ended FAILED or CANCELLED. """
    last_run_id: None | str | Unset = UNSET
    last_run_status: RunStatus | Unset = UNSET
    """ Status of a run. COMPLETED, FAILED and CANCELLED are terminal; CANCELLING means a cancel
    was requested and the worker is stopping the run.
     """
    last_run_finished_at: float | None | Unset = UNSET
    wheels: WheelState | Unset = UNSET
    """ A worker's wheel sync, as it reports it. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        worker_id = self.worker_id

        instance_id = self.instance_id

        state: str = self.state

        hidden = self.hidden

        tags = self.tags

        concurrency = self.concurrency

        current_run_ids = self.current_run_ids

        started_at = self.started_at

        last_seen_at = self.last_seen_at

        updated_at = self.updated_at

        stopped_at: float | None | Unset
        if isinstance(self.stopped_at, Unset):
            stopped_at = UNSET
        else:
            stopped_at = self.stopped_at

        stop_reason: None | str | Unset
        if isinstance(self.stop_reason, Unset):
            stop_reason = UNSET
        else:
            stop_reason = self.stop_reason

        hostname: None | str | Unset
        if isinstance(self.hostname, Unset):
            hostname = UNSET
        else:
            hostname = self.hostname

        pid: int | None | Unset
        if isinstance(self.pid, Unset):
            pid = UNSET
        else:
            pid = self.pid

        version: None | str | Unset
        if isinstance(self.version, Unset):
            version = UNSET
        else:
            version = self.version

        runs_completed = self.runs_completed

        runs_failed = self.runs_failed

        last_run_id: None | str | Unset
        if isinstance(self.last_run_id, Unset):
            last_run_id = UNSET
        else:
            last_run_id = self.last_run_id

        last_run_status: str | Unset = UNSET
        if not isinstance(self.last_run_status, Unset):
            last_run_status = self.last_run_status

        last_run_finished_at: float | None | Unset
        if isinstance(self.last_run_finished_at, Unset):
            last_run_finished_at = UNSET
        else:
            last_run_finished_at = self.last_run_finished_at

        wheels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.wheels, Unset):
            wheels = self.wheels.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "worker_id": worker_id,
                "instance_id": instance_id,
                "state": state,
                "hidden": hidden,
                "tags": tags,
                "concurrency": concurrency,
                "current_run_ids": current_run_ids,
                "started_at": started_at,
                "last_seen_at": last_seen_at,
                "updated_at": updated_at,
            }
        )
        if stopped_at is not UNSET:
            field_dict["stopped_at"] = stopped_at
        if stop_reason is not UNSET:
            field_dict["stop_reason"] = stop_reason
        if hostname is not UNSET:
            field_dict["hostname"] = hostname
        if pid is not UNSET:
            field_dict["pid"] = pid
        if version is not UNSET:
            field_dict["version"] = version
        if runs_completed is not UNSET:
            field_dict["runs_completed"] = runs_completed
        if runs_failed is not UNSET:
            field_dict["runs_failed"] = runs_failed
        if last_run_id is not UNSET:
            field_dict["last_run_id"] = last_run_id
        if last_run_status is not UNSET:
            field_dict["last_run_status"] = last_run_status
        if last_run_finished_at is not UNSET:
            field_dict["last_run_finished_at"] = last_run_finished_at
        if wheels is not UNSET:
            field_dict["wheels"] = wheels

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.wheel_state import WheelState  # noqa: PLC0415

        d = dict(src_dict)
        worker_id = d.pop("worker_id")

        instance_id = d.pop("instance_id")

        state = check_worker_state(d.pop("state"))

        hidden = d.pop("hidden")

        tags = cast(list[str], d.pop("tags"))

        concurrency = d.pop("concurrency")

        current_run_ids = cast(list[str], d.pop("current_run_ids"))

        started_at = d.pop("started_at")

        last_seen_at = d.pop("last_seen_at")

        updated_at = d.pop("updated_at")

        def _parse_stopped_at(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        stopped_at = _parse_stopped_at(d.pop("stopped_at", UNSET))

        def _parse_stop_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        stop_reason = _parse_stop_reason(d.pop("stop_reason", UNSET))

        def _parse_hostname(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        hostname = _parse_hostname(d.pop("hostname", UNSET))

        def _parse_pid(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        pid = _parse_pid(d.pop("pid", UNSET))

        def _parse_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        version = _parse_version(d.pop("version", UNSET))

        runs_completed = d.pop("runs_completed", UNSET)

        runs_failed = d.pop("runs_failed", UNSET)

        def _parse_last_run_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        last_run_id = _parse_last_run_id(d.pop("last_run_id", UNSET))

        _last_run_status = d.pop("last_run_status", UNSET)
        last_run_status: RunStatus | Unset
        if isinstance(_last_run_status, Unset):
            last_run_status = UNSET
        else:
            last_run_status = check_run_status(_last_run_status)

        def _parse_last_run_finished_at(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        last_run_finished_at = _parse_last_run_finished_at(d.pop("last_run_finished_at", UNSET))

        _wheels = d.pop("wheels", UNSET)
        wheels: WheelState | Unset
        if isinstance(_wheels, Unset):
            wheels = UNSET
        else:
            wheels = WheelState.from_dict(_wheels)

        worker_record = cls(
            worker_id=worker_id,
            instance_id=instance_id,
            state=state,
            hidden=hidden,
            tags=tags,
            concurrency=concurrency,
            current_run_ids=current_run_ids,
            started_at=started_at,
            last_seen_at=last_seen_at,
            updated_at=updated_at,
            stopped_at=stopped_at,
            stop_reason=stop_reason,
            hostname=hostname,
            pid=pid,
            version=version,
            runs_completed=runs_completed,
            runs_failed=runs_failed,
            last_run_id=last_run_id,
            last_run_status=last_run_status,
            last_run_finished_at=last_run_finished_at,
            wheels=wheels,
        )

        worker_record.additional_properties = d
        return worker_record

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
