from typing import Literal

AttemptRecordStatus = Literal["CANCELLED", "COMPLETED", "FAILED", "LOST", "RUNNING"]

ATTEMPT_RECORD_STATUS_VALUES: set[AttemptRecordStatus] = {
    "CANCELLED",
    "COMPLETED",
    "FAILED",
    "LOST",
    "RUNNING",
}


def check_attempt_record_status(value: str) -> AttemptRecordStatus:
    if value in ATTEMPT_RECORD_STATUS_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {ATTEMPT_RECORD_STATUS_VALUES!r}")
