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
    """ Stable machine-readable code of a problem (Problem `reason`), when there is one.

    Extensible: new codes may be added in any release, so the schema is a plain string and
    the known codes are listed in `x-extensible-enum` (Zalando's convention) rather than in
    `enum`. A closed `enum` would make generated clients (openapi-python-client's literal
    types, TypeScript unions) refuse an answer carrying a newer code; an
    `anyOf: [{enum}, {type: string}]` gives openapi-python-client a union it cannot decode
    cleanly and @hey-api/openapi-ts a `'a' | string` type that collapses to `string`
    anyway. Clients should switch on the codes they know and fall back on `status` and
    `detail` for any other.

    | code | status | meaning |
    |---|---|---|
    | `invalid_request` | 400 | the request does not fit this spec (body, parameters) |
    | `invalid_input` | 400 | a value fits the spec but is not acceptable (see `detail`) |
    | `invalid_multipart` | 400 | a malformed multipart body, or more parts than the operation takes |
    | `api_key_required` | 401 | API keys are on and the request carries none |
    | `api_key_invalid` | 403 | the key is malformed, unknown, revoked, or its secret is wrong |
    | `forbidden_role` | 403 | the key's role may not do this (an admin key is needed) |
    | `forbidden_tenant` | 403 | a user key naming another tenant |
    | `run_not_found` | 404 | no such run (or another tenant's) |
    | `worker_not_found` | 404 | no such worker |
    | `dead_letter_not_found` | 404 | no such dead letter |
    | `wheel_not_found` | 404 | no such wheel |
    | `method_not_allowed` | 405 | the path does not take this method (`Allow` lists those it takes) |
    | `body_too_slow` | 408 | the request's body came slower than the gateway takes (any operation with a body; the
    connection is closed) |
    | `not_redrivable` | 409 | the dead letter keeps no job, or its run is queued or running |
    | `idempotency_key_reused` | 409 | the Idempotency-Key was used for a different request |
    | `idempotency_key_in_progress` | 409 | the first request with this key is still being submitted (Retry-After) |
    | `workflow_not_stored` | 409 | a re-run whose flow.yaml is no longer kept |
    | `wheel_version_not_higher` | 409 | the wheel's version is not higher than every stored one |
    | `wheel_exists` | 409 | `replace=false` and the distribution already has a version |
    | `payload_too_large` | 413 | a body, upload, field or the resulting job is over its limit |
    | `unsupported_media_type` | 415 | the body's Content-Type is not one the operation takes |
    | `headers_too_large` | 431 | the request's line and headers take more than 64 KiB (any operation; the
    connection is closed) |
    | `not_utf8`, `invalid_yaml`, `invalid_yaml_root`, `too_complex`, `unsupported_key`, `unknown_keys`,
    `unsupported_version`, `missing_flow_graph`, `invalid_defaults`, `invalid_task`, `invalid_task_callable`,
    `missing_callable`, `undeclared_task`, `unknown_params`, `invalid_pipes`, `invalid_runtime`, `invalid_graph` |
    422 | the flow.yaml is invalid (see `detail`) |
    | `callable_not_allowed` | 422 | a task's callable is outside the allowed modules |
    | `invalid_wheel`, `invalid_wheel_name` | 422 | the upload is not a wheel matching its file name |
    | `invalid_tags` | 422 | wheel tags, or run labels over their limits |
    | `invalid_requirement`, `unknown_requirement` | 422 | a `requires` pin is malformed, or not in the registry for
    the run's tag |
    | `submit_rate_limited` | 429 | the tenant's submit rate (Retry-After) |
    | `too_many_watches` | 429 | too many open event streams (Retry-After) |
    | `backend_unavailable` | 503 | NATS is unreachable or still loading (Retry-After) |
    | `queue_full` | 503 | the work queue is full (Retry-After) |
    | `gateway_busy` | 503 | the gateway process is receiving as many request bodies as it may hold (any operation
    with a body; Retry-After; the connection is closed) |
    | `submit_outcome_unknown` | 503 | the run may still happen: retry with the same Idempotency-Key (Retry-After) |
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
