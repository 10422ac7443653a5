from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.run_snapshot import RunSnapshot


T = TypeVar("T", bound="WatchSnapshot")


@_attrs_define
class WatchSnapshot:
    """Data of a `snapshot` event of GET /runs/{run_id}/watch: the run's snapshot as
    GET /runs/{run_id} shows it (with `include`), and when it was sent.

    """

    run_id: str
    """ A run id (a UUID4 string for runs created by this server). """
    snapshot: RunSnapshot
    """ The latest state of a run, as stored in the `pyoco_runs` key-value bucket (see
    asyncapi.yaml) and returned by the API.
     """
    ts: float
    """ When the gateway sent it (Unix seconds). """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        run_id = self.run_id

        snapshot = self.snapshot.to_dict()

        ts = self.ts

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "run_id": run_id,
                "snapshot": snapshot,
                "ts": ts,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.run_snapshot import RunSnapshot  # noqa: PLC0415

        d = dict(src_dict)
        run_id = d.pop("run_id")

        snapshot = RunSnapshot.from_dict(d.pop("snapshot"))

        ts = d.pop("ts")

        watch_snapshot = cls(
            run_id=run_id,
            snapshot=snapshot,
            ts=ts,
        )

        watch_snapshot.additional_properties = d
        return watch_snapshot

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
