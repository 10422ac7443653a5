from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.run_status import RunStatus, check_run_status
from ..types import UNSET, Unset

T = TypeVar("T", bound="RunAccepted")


@_attrs_define
class RunAccepted:
    """The accepted run. `status` is the run's status now: PENDING for a new run; an
    idempotent replay shows where the run it created has got to.

    """

    run_id: str
    """ A run id (a UUID4 string for runs created by this server). """
    status: RunStatus
    """ Status of a run. COMPLETED, FAILED and CANCELLED are terminal; CANCELLING means a cancel
    was requested and the worker is stopping the run.
     """
    flow_name: str
    tag: str
    """ A routing tag; one subject token of letters, digits, `_` and `-`. """
    rerun_of: None | str | Unset = UNSET
    """ For a re-run, the run it repeats. """
    warnings: list[str] | Unset = UNSET
    """ Things the submitter should know, for a person: for example that no worker has
    served the tag lately, so the run will wait until one does.
     """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        run_id = self.run_id

        status: str = self.status

        flow_name = self.flow_name

        tag = self.tag

        rerun_of: None | str | Unset
        if isinstance(self.rerun_of, Unset):
            rerun_of = UNSET
        else:
            rerun_of = self.rerun_of

        warnings: list[str] | Unset = UNSET
        if not isinstance(self.warnings, Unset):
            warnings = self.warnings

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "run_id": run_id,
                "status": status,
                "flow_name": flow_name,
                "tag": tag,
            }
        )
        if rerun_of is not UNSET:
            field_dict["rerun_of"] = rerun_of
        if warnings is not UNSET:
            field_dict["warnings"] = warnings

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        run_id = d.pop("run_id")

        status = check_run_status(d.pop("status"))

        flow_name = d.pop("flow_name")

        tag = d.pop("tag")

        def _parse_rerun_of(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        rerun_of = _parse_rerun_of(d.pop("rerun_of", UNSET))

        warnings = cast(list[str], d.pop("warnings", UNSET))

        run_accepted = cls(
            run_id=run_id,
            status=status,
            flow_name=flow_name,
            tag=tag,
            rerun_of=rerun_of,
            warnings=warnings,
        )

        run_accepted.additional_properties = d
        return run_accepted

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
