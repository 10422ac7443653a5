from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Wheel")


@_attrs_define
class Wheel:
    """One stored wheel version."""

    name: str
    """ A wheel file name (`<distribution>-<version>(-<build>)?-<python>-<abi>-<platform>.whl`). """
    distribution: str
    """ The distribution's name, normalised (PEP 503). """
    version: str
    sha256_hex: str
    """ SHA-256 of the file (hex); workers install by it and check it. """
    digest: str
    """ The same, as `SHA-256=<base64url>` (the object store's form). """
    size_bytes: int
    tags: list[str]
    uploaded_at: float
    modules: list[str] | Unset = UNSET
    """ The top-level modules and packages the wheel provides (task callables from them are allowed in runs bound to
    it). """
    requires_dist: list[str] | Unset = UNSET
    requires_python: None | str | Unset = UNSET
    uploaded_by: None | str | Unset = UNSET
    """ `api_key:<key_id>` with API keys on, else `address:<client>`. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        distribution = self.distribution

        version = self.version

        sha256_hex = self.sha256_hex

        digest = self.digest

        size_bytes = self.size_bytes

        tags = self.tags

        uploaded_at = self.uploaded_at

        modules: list[str] | Unset = UNSET
        if not isinstance(self.modules, Unset):
            modules = self.modules

        requires_dist: list[str] | Unset = UNSET
        if not isinstance(self.requires_dist, Unset):
            requires_dist = self.requires_dist

        requires_python: None | str | Unset
        if isinstance(self.requires_python, Unset):
            requires_python = UNSET
        else:
            requires_python = self.requires_python

        uploaded_by: None | str | Unset
        if isinstance(self.uploaded_by, Unset):
            uploaded_by = UNSET
        else:
            uploaded_by = self.uploaded_by

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "distribution": distribution,
                "version": version,
                "sha256_hex": sha256_hex,
                "digest": digest,
                "size_bytes": size_bytes,
                "tags": tags,
                "uploaded_at": uploaded_at,
            }
        )
        if modules is not UNSET:
            field_dict["modules"] = modules
        if requires_dist is not UNSET:
            field_dict["requires_dist"] = requires_dist
        if requires_python is not UNSET:
            field_dict["requires_python"] = requires_python
        if uploaded_by is not UNSET:
            field_dict["uploaded_by"] = uploaded_by

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        distribution = d.pop("distribution")

        version = d.pop("version")

        sha256_hex = d.pop("sha256_hex")

        digest = d.pop("digest")

        size_bytes = d.pop("size_bytes")

        tags = cast(list[str], d.pop("tags"))

        uploaded_at = d.pop("uploaded_at")

        modules = cast(list[str], d.pop("modules", UNSET))

        requires_dist = cast(list[str], d.pop("requires_dist", UNSET))

        def _parse_requires_python(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        requires_python = _parse_requires_python(d.pop("requires_python", UNSET))

        def _parse_uploaded_by(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        uploaded_by = _parse_uploaded_by(d.pop("uploaded_by", UNSET))

        wheel = cls(
            name=name,
            distribution=distribution,
            version=version,
            sha256_hex=sha256_hex,
            digest=digest,
            size_bytes=size_bytes,
            tags=tags,
            uploaded_at=uploaded_at,
            modules=modules,
            requires_dist=requires_dist,
            requires_python=requires_python,
            uploaded_by=uploaded_by,
        )

        wheel.additional_properties = d
        return wheel

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
