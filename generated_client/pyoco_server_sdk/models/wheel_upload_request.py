from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, TypeVar

from attrs import define as _attrs_define

from .. import types
from ..types import UNSET, File, Unset

T = TypeVar("T", bound="WheelUploadRequest")


@_attrs_define
class WheelUploadRequest:
    wheel: File
    """ The wheel file; its part's file name is the wheel's name. """
    tags: str | Unset = UNSET
    """ Comma-separated tags (each a routing tag); empty or absent for every tag. """
    replace: bool | Unset = True
    """ False refuses the upload when the distribution already has a version. """

    def to_dict(self) -> dict[str, Any]:
        wheel = self.wheel.to_tuple()

        tags = self.tags

        replace = self.replace

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "wheel": wheel,
            }
        )
        if tags is not UNSET:
            field_dict["tags"] = tags
        if replace is not UNSET:
            field_dict["replace"] = replace

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("wheel", self.wheel.to_tuple()))

        if not isinstance(self.tags, Unset):
            files.append(("tags", (None, str(self.tags).encode(), "text/plain")))

        if not isinstance(self.replace, Unset):
            files.append(("replace", (None, str(self.replace).encode(), "text/plain")))

        return files

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        wheel = File(payload=BytesIO(d.pop("wheel")))

        tags = d.pop("tags", UNSET)

        replace = d.pop("replace", UNSET)

        wheel_upload_request = cls(
            wheel=wheel,
            tags=tags,
            replace=replace,
        )

        return wheel_upload_request
