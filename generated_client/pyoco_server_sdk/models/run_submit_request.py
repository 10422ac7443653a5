from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.params import Params
    from ..models.retry_policy import RetryPolicy


T = TypeVar("T", bound="RunSubmitRequest")


@_attrs_define
class RunSubmitRequest:
    flow_name: str
    """ Name of the flow to run; printable text with at least one non-blank character. """
    params: Params | Unset = UNSET
    """ Parameters of the run, passed to the flow's tasks by name. Plain JSON: no NaN or
    Infinity, text that is valid Unicode (no lone surrogate escape such as `\\ud800`), and
    arrays and objects nested at most 64 levels deep, the params object being the first;
    anything else is a 400 `invalid_input` (`invalid_request` when a JSON body cannot be
    read at all). Their JSON text counts against `PYOCO_MAX_RUN_SNAPSHOT_BYTES` (413
    beyond).
     """
    tag: str | Unset = UNSET
    """ A routing tag; one subject token of letters, digits, `_` and `-`. """
    tags: list[str] | Unset = UNSET
    """ Metadata labels stored with the run; routing uses `tag` only. """
    timeout_sec: float | Unset = UNSET
    """ Seconds the run may take once a worker starts it (default PYOCO_RUN_TIMEOUT_SEC; 0 or
    absent there means no limit). A run over it ends FAILED with reason `timeout`.
     """
    retry: RetryPolicy | Unset = UNSET
    """ Run a failed run again: after a task error, a crash of its process or a timeout (not
    after `flow_not_found` or a cancel). Attempt n+1 starts `backoff_sec *
    backoff_multiplier^(n-1)` seconds (at most `max_backoff_sec`) after attempt n failed.
    Retries are deliveries of the same job, so `max_attempts` is at most
    PYOCO_CONSUMER_MAX_DELIVER.
     """
    requires: list[str] | Unset = UNSET
    """ Wheel versions to bind the run to instead of the newest for its tag
    (`["my_ext==0.1.0"]`); each must be in the registry and available to the run's tag (422
    otherwise).
     """

    def to_dict(self) -> dict[str, Any]:
        flow_name = self.flow_name

        params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.params, Unset):
            params = self.params.to_dict()

        tag = self.tag

        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags

        timeout_sec = self.timeout_sec

        retry: dict[str, Any] | Unset = UNSET
        if not isinstance(self.retry, Unset):
            retry = self.retry.to_dict()

        requires: list[str] | Unset = UNSET
        if not isinstance(self.requires, Unset):
            requires = self.requires

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "flow_name": flow_name,
            }
        )
        if params is not UNSET:
            field_dict["params"] = params
        if tag is not UNSET:
            field_dict["tag"] = tag
        if tags is not UNSET:
            field_dict["tags"] = tags
        if timeout_sec is not UNSET:
            field_dict["timeout_sec"] = timeout_sec
        if retry is not UNSET:
            field_dict["retry"] = retry
        if requires is not UNSET:
            field_dict["requires"] = requires

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.params import Params  # noqa: PLC0415
        from ..models.retry_policy import RetryPolicy  # noqa: PLC0415

        d = dict(src_dict)
        flow_name = d.pop("flow_name")

        _params = d.pop("params", UNSET)
        params: Params | Unset
        if isinstance(_params, Unset):
            params = UNSET
        else:
            params = Params.from_dict(_params)

        tag = d.pop("tag", UNSET)

        tags = cast(list[str], d.pop("tags", UNSET))

        timeout_sec = d.pop("timeout_sec", UNSET)

        _retry = d.pop("retry", UNSET)
        retry: RetryPolicy | Unset
        if isinstance(_retry, Unset):
            retry = UNSET
        else:
            retry = RetryPolicy.from_dict(_retry)

        requires = cast(list[str], d.pop("requires", UNSET))

        run_submit_request = cls(
            flow_name=flow_name,
            params=params,
            tag=tag,
            tags=tags,
            timeout_sec=timeout_sec,
            retry=retry,
            requires=requires,
        )

        return run_submit_request
