from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.log_stream import LogStream, check_log_stream
from ..types import UNSET, Unset

T = TypeVar("T", bound="LogRecord")


@_attrs_define
class LogRecord:
    """One line or log record of a run's task."""

    seq: int
    """ Increases with every record of a run (gaps are other runs' records). """
    run_id: str
    """ A run id (a UUID4 string for runs created by this server). """
    attempt: int
    stream: LogStream
    """ Where a record came from: the task's `stdout` or `stderr`, a `log` record of Python's
    logging, or `system` (the server, for example that the run's log limit was reached).
     """
    message: str
    """ The line (without its newline) or the formatted log message. """
    ts: float
    task: None | str | Unset = UNSET
    """ The task that wrote it (null outside any task). """
    level: None | str | Unset = UNSET
    """ For `log` records, the level name (INFO, WARNING, ...). """
    logger: None | str | Unset = UNSET
    """ For `log` records, the logger's name. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        seq = self.seq

        run_id = self.run_id

        attempt = self.attempt

        stream: str = self.stream

        message = self.message

        ts = self.ts

        task: None | str | Unset
        if isinstance(self.task, Unset):
            task = UNSET
        else:
            task = self.task

        level: None | str | Unset
        if isinstance(self.level, Unset):
            level = UNSET
        else:
            level = self.level

        logger: None | str | Unset
        if isinstance(self.logger, Unset):
            logger = UNSET
        else:
            logger = self.logger

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "seq": seq,
                "run_id": run_id,
                "attempt": attempt,
                "stream": stream,
                "message": message,
                "ts": ts,
            }
        )
        if task is not UNSET:
            field_dict["task"] = task
        if level is not UNSET:
            field_dict["level"] = level
        if logger is not UNSET:
            field_dict["logger"] = logger

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        seq = d.pop("seq")

        run_id = d.pop("run_id")

        attempt = d.pop("attempt")

        stream = check_log_stream(d.pop("stream"))

        message = d.pop("message")

        ts = d.pop("ts")

        def _parse_task(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        task = _parse_task(d.pop("task", UNSET))

        def _parse_level(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        level = _parse_level(d.pop("level", UNSET))

        def _parse_logger(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        logger = _parse_logger(d.pop("logger", UNSET))

        log_record = cls(
            seq=seq,
            run_id=run_id,
            attempt=attempt,
            stream=stream,
            message=message,
            ts=ts,
            task=task,
            level=level,
            logger=logger,
        )

        log_record.additional_properties = d
        return log_record

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
