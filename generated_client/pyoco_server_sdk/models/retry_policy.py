from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RetryPolicy")


@_attrs_define
class RetryPolicy:
    """Run a failed run again: after a task error, a crash of its process or a timeout (not
    after `flow_not_found` or a cancel). Attempt n+1 starts `backoff_sec *
    backoff_multiplier^(n-1)` seconds (at most `max_backoff_sec`) after attempt n failed.
    Retries are deliveries of the same job, so `max_attempts` is at most
    PYOCO_CONSUMER_MAX_DELIVER.

    """

    max_attempts: int
    """ Attempts in all, the first included (1 means no retry); at most 20, and at most
    PYOCO_CONSUMER_MAX_DELIVER where that is set lower (400 otherwise).
     """
    backoff_sec: float | Unset = 1.0
    backoff_multiplier: float | Unset = 2.0
    max_backoff_sec: float | Unset = 300.0

    def to_dict(self) -> dict[str, Any]:
        max_attempts = self.max_attempts

        backoff_sec = self.backoff_sec

        backoff_multiplier = self.backoff_multiplier

        max_backoff_sec = self.max_backoff_sec

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "max_attempts": max_attempts,
            }
        )
        if backoff_sec is not UNSET:
            field_dict["backoff_sec"] = backoff_sec
        if backoff_multiplier is not UNSET:
            field_dict["backoff_multiplier"] = backoff_multiplier
        if max_backoff_sec is not UNSET:
            field_dict["max_backoff_sec"] = max_backoff_sec

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        max_attempts = d.pop("max_attempts")

        backoff_sec = d.pop("backoff_sec", UNSET)

        backoff_multiplier = d.pop("backoff_multiplier", UNSET)

        max_backoff_sec = d.pop("max_backoff_sec", UNSET)

        retry_policy = cls(
            max_attempts=max_attempts,
            backoff_sec=backoff_sec,
            backoff_multiplier=backoff_multiplier,
            max_backoff_sec=max_backoff_sec,
        )

        return retry_policy
