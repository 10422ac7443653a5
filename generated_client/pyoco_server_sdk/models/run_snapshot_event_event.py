from typing import Literal

RunSnapshotEventEvent = Literal["snapshot"]

RUN_SNAPSHOT_EVENT_EVENT_VALUES: set[RunSnapshotEventEvent] = {
    "snapshot",
}


def check_run_snapshot_event_event(value: str) -> RunSnapshotEventEvent:
    if value in RUN_SNAPSHOT_EVENT_EVENT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {RUN_SNAPSHOT_EVENT_EVENT_VALUES!r}")
