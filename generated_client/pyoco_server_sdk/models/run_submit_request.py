from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.params import Params


T = TypeVar("T", bound="RunSubmitRequest")


@_attrs_define
class RunSubmitRequest:
    flow_name: str
    """ Name of the flow to run; printable text with at least one non-blank character. """
    params: Params | Unset = UNSET
    """ Parameters of the run, passed to the flow's tasks by name. """
    tag: str | Unset = UNSET
    """ A routing tag; one subject token of letters, digits, `_` and `-`. """
    tags: list[str] | Unset = UNSET
    """ Metadata labels stored with the run; routing uses `tag` only. """

    def to_dict(self) -> dict[str, Any]:
        flow_name = self.flow_name

        params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.params, Unset):
            params = self.params.to_dict()

        tag = self.tag

        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags

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

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.params import Params  # noqa: PLC0415

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

        run_submit_request = cls(
            flow_name=flow_name,
            params=params,
            tag=tag,
            tags=tags,
        )

        return run_submit_request
