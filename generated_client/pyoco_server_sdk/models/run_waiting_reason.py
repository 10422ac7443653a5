from typing import Literal

RunWaitingReason = Literal["no_worker", "queued", "retry_scheduled", "workers_busy"]

RUN_WAITING_REASON_VALUES: set[RunWaitingReason] = {
    "no_worker",
    "queued",
    "retry_scheduled",
    "workers_busy",
}


def check_run_waiting_reason(value: str) -> RunWaitingReason:
    if value in RUN_WAITING_REASON_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {RUN_WAITING_REASON_VALUES!r}")
