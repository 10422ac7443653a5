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
    key; `tag` routes it to another tag than the original's.

    """

    params: Params | Unset = UNSET
    """ Parameters of the run, passed to the flow's tasks by name. """
    tag: str | Unset = UNSET
    """ A routing tag; one subject token of letters, digits, `_` and `-`. """

    def to_dict(self) -> dict[str, Any]:
        params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.params, Unset):
            params = self.params.to_dict()

        tag = self.tag

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if params is not UNSET:
            field_dict["params"] = params
        if tag is not UNSET:
            field_dict["tag"] = tag

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

        rerun_request = cls(
            params=params,
            tag=tag,
        )

        return rerun_request
