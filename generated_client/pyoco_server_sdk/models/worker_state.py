from typing import Literal

WorkerState = Literal["DISCONNECTED", "IDLE", "RUNNING", "STOPPED_GRACEFUL"]

WORKER_STATE_VALUES: set[WorkerState] = {
    "DISCONNECTED",
    "IDLE",
    "RUNNING",
    "STOPPED_GRACEFUL",
}


def check_worker_state(value: str) -> WorkerState:
    if value in WORKER_STATE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {WORKER_STATE_VALUES!r}")
