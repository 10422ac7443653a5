"""pyoco_client: the `pyoco-client` command line and `Client`, a facade over the generated SDK."""

from pyoco_client._client import Client
from pyoco_client._errors import (
    ClientError,
    ConnectionFailed,
    InputError,
    ProblemError,
    RunNotFound,
    TimedOut,
)

__all__ = [
    "Client",
    "ClientError",
    "ConnectionFailed",
    "InputError",
    "ProblemError",
    "RunNotFound",
    "TimedOut",
]
