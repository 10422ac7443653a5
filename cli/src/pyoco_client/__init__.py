"""pyoco_client: the `pyoco-client` command line, and `Client` and `AsyncClient`.

The two clients are a small typed facade over the generated SDK of the pyoco-server HTTP API.
"""

from pyoco_client._aclient import AsyncClient
from pyoco_client._client import Client
from pyoco_client._errors import (
    ClientError,
    ConnectionFailed,
    InputError,
    ProblemError,
    RunIdPrefixError,
    RunNotFound,
    TimedOut,
)
from pyoco_client._logs import LogEvent
from pyoco_client._sse import WatchEvent

__all__ = [
    "AsyncClient",
    "Client",
    "ClientError",
    "ConnectionFailed",
    "InputError",
    "LogEvent",
    "ProblemError",
    "RunIdPrefixError",
    "RunNotFound",
    "TimedOut",
    "WatchEvent",
]
