from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.params import Params


T = TypeVar("T", bound="RerunRequest")


@_attrs_define
class RerunRequest:
    """What to change for the new run: `params` are merged over the original run's, key by
    key; `tag` routes it to another tag than the original's; `timeout_sec` replaces the
    original's time limit (a run that timed out, run again with more time).

    """

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
    timeout_sec: float | Unset = UNSET
    """ Seconds the run may take once a worker starts it (default PYOCO_RUN_TIMEOUT_SEC; 0 or
    absent there means no limit). A run over it ends FAILED with reason `timeout`.
     """

    def to_dict(self) -> dict[str, Any]:
        params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.params, Unset):
            params = self.params.to_dict()

        tag = self.tag

        timeout_sec = self.timeout_sec

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if params is not UNSET:
            field_dict["params"] = params
        if tag is not UNSET:
            field_dict["tag"] = tag
        if timeout_sec is not UNSET:
            field_dict["timeout_sec"] = timeout_sec

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.params import Params  # noqa: PLC0415

        d = dict(src_dict)
        _params = d.pop("params", UNSET)
        params: Params | Unset
        if isinstance(_params, Unset):
            params = UNSET
        else:
            params = Params.from_dict(_params)

        tag = d.pop("tag", UNSET)

        timeout_sec = d.pop("timeout_sec", UNSET)

        rerun_request = cls(
            params=params,
            tag=tag,
            timeout_sec=timeout_sec,
        )

        return rerun_request
