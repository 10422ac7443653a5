"""The HTTP side shared by `Client` and `AsyncClient`: the SDK's client, and httpx's errors.

The generated SDK sends every request through an httpx client it builds from its own `Client`
or `AuthenticatedClient`. This module configures that client (the API key header, the timeout,
a response hook) and turns what httpx raises into the `ClientError` tree, in one place for both
the sync and the async facade.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

import httpx

from pyoco_client._errors import ClientError, ConnectionFailed, ProblemError, TimedOut
from pyoco_server_sdk import AuthenticatedClient
from pyoco_server_sdk import Client as SdkClient

SdkClientType = SdkClient | AuthenticatedClient
"""Either client of the generated SDK (with or without an API key)."""


def sdk_client(
    base_url: str,
    api_key: str | None,
    api_key_header: str,
    timeout: float,
    hook: Callable[[httpx.Response], Any],
) -> SdkClientType:
    """The generated SDK's client for `base_url`, sending `api_key` (if any) without a prefix.

    `hook` runs on every response before the SDK parses it: `foreign_error` for the SDK's sync
    functions, `async_foreign_error` for its asyncio ones.
    """
    httpx_args = {"event_hooks": {"response": [hook]}}
    if api_key is None:
        return SdkClient(base_url=base_url, timeout=httpx.Timeout(timeout), httpx_args=httpx_args)
    return AuthenticatedClient(
        base_url=base_url,
        token=api_key,
        prefix="",
        auth_header_name=api_key_header,
        timeout=httpx.Timeout(timeout),
        httpx_args=httpx_args,
    )


def stream_timeout(timeout: float) -> httpx.Timeout:
    """Timeouts of an event stream: `timeout` to connect, send and pool; none between reads.

    A watched run may stay quiet for minutes; the stream's own deadline (`timeout_sec`) and the
    server's heartbeats bound it, not a read timeout.
    """
    return httpx.Timeout(timeout, read=None)


def foreign_error(response: httpx.Response) -> None:
    """Raise `ProblemError` for an HTTP error whose body is not JSON, before the SDK parses it.

    A proxy's HTML error page would otherwise fail inside the SDK as a bare JSON decode error.
    """
    if _foreign(response):
        response.read()
        raise _foreign_problem(response)


async def async_foreign_error(response: httpx.Response) -> None:
    """`foreign_error` for the async httpx client, which needs coroutine hooks."""
    if _foreign(response):
        await response.aread()
        raise _foreign_problem(response)


@contextlib.contextmanager
def translated(url: str, timeout: float) -> Iterator[None]:
    """Raise the `ClientError` that stands for an httpx error or an answer off the contract."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise TimedOut(url, timeout) from exc
    except (httpx.TransportError, httpx.InvalidURL) as exc:
        raise ConnectionFailed(url, str(exc) or type(exc).__name__) from exc
    except (ValueError, KeyError, TypeError) as exc:
        # The SDK could not parse the answer into the contract's models.
        raise ClientError(
            f"the answer of {url} does not follow the pyoco-server API: {exc!r}"
        ) from exc


def phrase(status: int) -> str:
    """The reason phrase of an HTTP status ("Not Found"), or "Error" for an unknown one."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def excerpt(text: str, limit: int = 200) -> str | None:
    """The start of a body on one line, or None when it is blank."""
    line = " ".join(text.split())
    return (line[: limit - 1] + "…" if len(line) > limit else line) or None


def _foreign(response: httpx.Response) -> bool:
    return response.is_error and "json" not in response.headers.get("content-type", "")


def _foreign_problem(response: httpx.Response) -> ProblemError:
    reason = response.reason_phrase or phrase(response.status_code)
    return ProblemError(response.status_code, reason, excerpt(response.text), None)
