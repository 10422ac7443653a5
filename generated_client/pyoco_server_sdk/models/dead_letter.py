from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.dead_letter_reason import DeadLetterReason, check_dead_letter_reason
from ..types import UNSET, Unset

T = TypeVar("T", bound="DeadLetter")


@_attrs_define
class DeadLetter:
    id: str
    """ The record's sequence in the dead-letter stream. """
    reason: DeadLetterReason
    """ `invalid_job`: the message was not a valid job; `flow_not_found`: no flow for it on the
    worker; `callable_not_allowed`: a task's callable is not allowed on the worker;
    `code_unavailable`: a wheel the run is bound to could not be installed;
    `execution_error`: the run failed in task code (or its process crashed);
    `max_deliveries_exceeded`: its deliveries ran out (its workers kept dying);
    `timeout`: the run went over its time limit.
     """
    error: str
    timestamp: float
    tag: str
    redrivable: bool
    """ True when the record keeps its job, so POST /dlq/{id}/redrive can queue it again. """
    subject: None | str | Unset = UNSET
    run_id: None | str | Unset = UNSET
    flow_name: None | str | Unset = UNSET
    worker_id: None | str | Unset = UNSET
    num_delivered: int | None | Unset = UNSET
    payload: None | str | Unset = UNSET
    """ For `invalid_job`, the start of the message. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        reason: str = self.reason

        error = self.error

        timestamp = self.timestamp

        tag = self.tag

        redrivable = self.redrivable

        subject: None | str | Unset
        if isinstance(self.subject, Unset):
            subject = UNSET
        else:
            subject = self.subject

        run_id: None | str | Unset
        if isinstance(self.run_id, Unset):
            run_id = UNSET
        else:
            run_id = self.run_id

        flow_name: None | str | Unset
        if isinstance(self.flow_name, Unset):
            flow_name = UNSET
        else:
            flow_name = self.flow_name

        worker_id: None | str | Unset
        if isinstance(self.worker_id, Unset):
            worker_id = UNSET
        else:
            worker_id = self.worker_id

        num_delivered: int | None | Unset
        if isinstance(self.num_delivered, Unset):
            num_delivered = UNSET
        else:
            num_delivered = self.num_delivered

        payload: None | str | Unset
        if isinstance(self.payload, Unset):
            payload = UNSET
        else:
            payload = self.payload

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "reason": reason,
                "error": error,
                "timestamp": timestamp,
                "tag": tag,
                "redrivable": redrivable,
            }
        )
        if subject is not UNSET:
            field_dict["subject"] = subject
        if run_id is not UNSET:
            field_dict["run_id"] = run_id
        if flow_name is not UNSET:
            field_dict["flow_name"] = flow_name
        if worker_id is not UNSET:
            field_dict["worker_id"] = worker_id
        if num_delivered is not UNSET:
            field_dict["num_delivered"] = num_delivered
        if payload is not UNSET:
            field_dict["payload"] = payload

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        reason = check_dead_letter_reason(d.pop("reason"))

        error = d.pop("error")

        timestamp = d.pop("timestamp")

        tag = d.pop("tag")

        redrivable = d.pop("redrivable")

        def _parse_subject(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        subject = _parse_subject(d.pop("subject", UNSET))

        def _parse_run_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        run_id = _parse_run_id(d.pop("run_id", UNSET))

        def _parse_flow_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        flow_name = _parse_flow_name(d.pop("flow_name", UNSET))

        def _parse_worker_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        worker_id = _parse_worker_id(d.pop("worker_id", UNSET))

        def _parse_num_delivered(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        num_delivered = _parse_num_delivered(d.pop("num_delivered", UNSET))

        def _parse_payload(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        payload = _parse_payload(d.pop("payload", UNSET))

        dead_letter = cls(
            id=id,
            reason=reason,
            error=error,
            timestamp=timestamp,
            tag=tag,
            redrivable=redrivable,
            subject=subject,
            run_id=run_id,
            flow_name=flow_name,
            worker_id=worker_id,
            num_delivered=num_delivered,
            payload=payload,
        )

        dead_letter.additional_properties = d
        return dead_letter

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
