from typing import Literal

LogStream = Literal["log", "stderr", "stdout", "system"]

LOG_STREAM_VALUES: set[LogStream] = {
    "log",
    "stderr",
    "stdout",
    "system",
}


def check_log_stream(value: str) -> LogStream:
    if value in LOG_STREAM_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {LOG_STREAM_VALUES!r}")
