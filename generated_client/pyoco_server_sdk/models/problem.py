from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Problem")


@_attrs_define
class Problem:
    """An RFC 7807 problem document."""

    title: str
    """ Short summary of the problem type. """
    status: int
    """ The HTTP status code. """
    type_: str | Unset = "about:blank"
    """ A URI reference identifying the problem type. """
    detail: str | Unset = UNSET
    """ What went wrong in this request and how to fix it. """
    instance: str | Unset = UNSET
    """ A URI reference identifying this occurrence. """
    reason: str | Unset = UNSET
    """ Stable machine-readable code of the problem, when there is one: `invalid_input`,
    `invalid_request` (the request does not fit this spec), `unsupported_media_type`,
    `run_not_found`, `worker_not_found`, `dead_letter_not_found`,
    `not_redrivable`, `idempotency_key_reused`, `idempotency_key_in_progress`,
    `forbidden_tenant` (403: a user key naming another tenant),
    `payload_too_large`, `submit_rate_limited` and `too_many_watches` (429),
    `backend_unavailable`, `queue_full` and `submit_outcome_unknown` (503),
    `invalid_multipart`, `method_not_allowed`,
    `api_key_required` (401), `api_key_invalid` and `forbidden_role` (403),
    or, for 422, the flow.yaml problem (`not_utf8`, `invalid_yaml`, `invalid_yaml_root`,
    `too_complex`, `unsupported_key`, `unknown_keys`, `unsupported_version`,
    `missing_flow_graph`, `invalid_defaults`, `invalid_task`, `invalid_task_callable`,
    `missing_callable` (a task with neither `callable` nor `use`), `undeclared_task` (the
    graph names a task not under `tasks:`), `unknown_params` (params no task or default
    uses), `invalid_pipes`, `invalid_runtime`, `invalid_graph`, `callable_not_allowed`), the
    wheel problem (`invalid_wheel`, `invalid_wheel_name`, `invalid_tags`) or the pin
    problem (`invalid_requirement`, `unknown_requirement`), `invalid_tags` (wheel tags, or
    run labels over their limits); 409 `wheel_version_not_higher`, `wheel_exists`,
    `workflow_not_stored` (a re-run whose flow.yaml is no longer kept);
    404 `wheel_not_found`.
     """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        title = self.title

        status = self.status

        type_ = self.type_

        detail = self.detail

        instance = self.instance

        reason = self.reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "title": title,
                "status": status,
            }
        )
        if type_ is not UNSET:
            field_dict["type"] = type_
        if detail is not UNSET:
            field_dict["detail"] = detail
        if instance is not UNSET:
            field_dict["instance"] = instance
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        title = d.pop("title")

        status = d.pop("status")

        type_ = d.pop("type", UNSET)

        detail = d.pop("detail", UNSET)

        instance = d.pop("instance", UNSET)

        reason = d.pop("reason", UNSET)

        problem = cls(
            title=title,
            status=status,
            type_=type_,
            detail=detail,
            instance=instance,
            reason=reason,
        )

        problem.additional_properties = d
        return problem

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
