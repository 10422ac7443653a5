from typing import Literal

RunStatus = Literal["CANCELLED", "CANCELLING", "COMPLETED", "FAILED", "PENDING", "RUNNING"]

RUN_STATUS_VALUES: set[RunStatus] = {
    "CANCELLED",
    "CANCELLING",
    "COMPLETED",
    "FAILED",
    "PENDING",
    "RUNNING",
}


def check_run_status(value: str) -> RunStatus:
    if value in RUN_STATUS_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {RUN_STATUS_VALUES!r}")
