"""How the command line shows an error: one line saying what went wrong, one saying what to do.

::

    pyoco-client: error: HTTP 404 Not Found: run 'abc' not found; check the id ...
      hint: run id 'abc' is unknown to this server; use a run_id printed by submit or submit-yaml

`failures()` turns a `ClientError` or a click usage error into `Failure`, a click exception that
click shows in this format (exit status 1) instead of its own.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable, Iterator
from typing import IO, Any

import click

from pyoco_client._errors import (
    ClientError,
    ConnectionFailed,
    InputError,
    ProblemError,
    RunIdPrefixError,
    RunNotFound,
    TimedOut,
)

_REASON_HINTS: dict[str, str] = {
    "api_key_required": "pass an API key with --api-key or PYOCO_API_KEY",
    "api_key_invalid": "the API key is unknown, revoked or mistyped; check --api-key or PYOCO_API_KEY",
    "forbidden_role": (
        "workers, dlq and metrics need an admin key "
        "(`pyoco-server-admin api-key create --tenant T --role admin`)"
    ),
    "worker_not_found": "`pyoco-client workers --scope all --include-hidden` lists the worker ids",
    "dead_letter_not_found": "`pyoco-client dlq list` lists the dead letters' ids",
    "not_redrivable": (
        "only a dead letter that kept its job, of a run that is not queued or running, "
        "can be driven again"
    ),
    "idempotency_key_reused": "that key went with a different request; use a new --idempotency-key",
    "idempotency_key_in_progress": "the first submit with that key is still being stored; retry",
    "wheel_version_not_higher": (
        "bump the version (pyproject.toml) and build again; `pyoco-client wheels` lists the "
        "stored versions"
    ),
    "wheel_exists": "pass --replace to make this version the current one",
    "invalid_wheel": "build the wheel with `uv build` and upload the file as built",
    "invalid_wheel_name": "upload the wheel under the file name `uv build` gave it",
    "invalid_tags": "tags are comma-separated, each letters, digits, '_' or '-'",
    "wheel_not_found": "`pyoco-client wheels` lists the stored wheels",
    "callable_not_allowed": (
        "upload the task code as a wheel (`pyoco-client wheel-upload`), or have the operator "
        "list its module in PYOCO_TASK_MODULES"
    ),
    "invalid_requirement": "pin one exact version per wheel, like --requires my_ext==0.1.0",
    "unknown_requirement": "`pyoco-client wheels` lists the versions; pin one of those",
    "submit_rate_limited": (
        "this tenant submits faster than the server allows; wait the Retry-After seconds, or ask "
        "the operator to raise PYOCO_SUBMIT_RATE_PER_SEC or PYOCO_SUBMIT_BURST"
    ),
    "too_many_watches": (
        "too many watch streams are open; close some, or poll runs with `pyoco-client get <run_id>`"
    ),
    "queue_full": (
        "the work queue is full because workers are not keeping up; retry in a while, or ask the "
        "operator to add workers or raise PYOCO_WORK_MAX_BYTES"
    ),
}
"""What to do about an HTTP problem, by its `reason`; checked before the status."""

_STATUS_HINTS: dict[int, str] = {
    400: "the server refused the request as sent; change it as the detail says",
    401: "pass a valid API key with --api-key or PYOCO_API_KEY",
    403: "this API key may not do that; use one that may (--api-key or PYOCO_API_KEY)",
    404: "check that --server (or PYOCO_SERVER_URL) is the URL of a pyoco-server",
    413: "send less, or raise the server's limit named in the detail",
    422: "fix the workflow file as the detail says, then submit it again",
    429: "the server limits how fast you may call it; wait a little and retry",
    503: "the server cannot reach NATS right now; retry in a few seconds, or check NATS",
}
"""What to do about an HTTP problem, by status; other statuses point at the server's log."""


class Failure(click.ClickException):
    """An error shown as two lines on stderr, the error and a hint; exit status 1."""

    exit_code = 1

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint

    def show(self, file: IO[Any] | None = None) -> None:
        """Write the error and its hint to stderr (`file` is ignored)."""
        report(self.message, self.hint)


@contextlib.contextmanager
def failures(*, debug: Callable[[], bool] = lambda: False) -> Iterator[None]:
    """Raise `Failure` for a `ClientError` or usage error inside.

    `debug()` is asked then (--debug may follow the command); when true the traceback is printed.
    """
    try:
        yield
    except ClientError as exc:
        if debug():
            traceback.print_exc()
        raise Failure(str(exc), hint_for(exc)) from exc
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "pyoco-client"
        raise Failure(exc.format_message(), f"see '{command} --help'") from exc


def hint_for(exc: ClientError) -> str:
    """What the user can do about `exc`."""
    if isinstance(exc, InputError):
        return exc.hint
    if isinstance(exc, RunNotFound):
        return (
            f"run id {exc.run_id!r} is unknown to this server; "
            "use a run_id printed by submit or submit-yaml"
        )
    if isinstance(exc, RunIdPrefixError) and exc.matches:
        return "give more characters of the run id, or all of it"
    if isinstance(exc, RunIdPrefixError):
        return "check the id (`pyoco-client list` shows the runs, newest first)"
    if isinstance(exc, ProblemError):
        return _problem_hint(exc)
    if isinstance(exc, TimedOut) and exc.run_id is not None:
        return f"the run goes on; follow it with `pyoco-client watch {exc.run_id}`"
    if isinstance(exc, TimedOut):
        return "raise --timeout, or check that the server is healthy"
    if isinstance(exc, ConnectionFailed):
        return (
            "start a server with `uv run pyoco-server up`, "
            "or point --server (or PYOCO_SERVER_URL) at a running one"
        )
    return "check that --server is a pyoco-server of this version; --debug shows the traceback"


def _problem_hint(problem: ProblemError) -> str:
    if problem.reason in _REASON_HINTS:
        return _REASON_HINTS[problem.reason]
    return _STATUS_HINTS.get(problem.status, "the server's log says more about what went wrong")


def report(message: str, hint: str) -> None:
    """Write the error `message` and its `hint` to stderr, one line each."""
    click.echo(f"pyoco-client: error: {_one_line(message)}", err=True)
    click.echo(f"  hint: {_one_line(hint)}", err=True)


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())
