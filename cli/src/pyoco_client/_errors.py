"""The errors of pyoco_client, one tree with fields rather than strings.

::

    ClientError                  root of every error pyoco_client raises on purpose
    ├── InputError               something the user gave cannot be used (a flag, a file)
    ├── ProblemError             the server answered with an HTTP error (a problem document)
    │   └── RunNotFound          404 for a run id: the server has no such run
    ├── RunIdPrefixError         a short run id (`prefix`) matches no run, or several (`matches`)
    ├── ConnectionFailed         no answer from the server at `url`: refused, unreachable, reset
    └── TimedOut                 something did not happen within `timeout` seconds: the server's
                                 answer to a request, or the end of run `run_id` (`wait`, `watch`)

`Client` and `AsyncClient` raise every branch but `InputError`, which the command line raises for
flags and files it cannot use. A request that times out is a `TimedOut`, not a
`ConnectionFailed`: catch both to retry on any failure to get an answer.
"""

from __future__ import annotations


class ClientError(Exception):
    """Root of every error pyoco_client raises on purpose."""


class InputError(ClientError):
    """A flag value or a file given by the user cannot be used; `hint` says how to fix it."""

    def __init__(self, message: str, hint: str) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)


class ProblemError(ClientError):
    """The server answered with an HTTP error, described as an RFC 7807 problem.

    Attributes:
        status: The HTTP status code.
        title: Short summary of the problem type (for example "Not Found").
        detail: What went wrong and how to fix it, when the server said.
        reason: Stable machine-readable code of the problem, when there is one.
    """

    def __init__(self, status: int, title: str, detail: str | None, reason: str | None) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.reason = reason
        text = f"HTTP {status} {title}"
        super().__init__(f"{text}: {detail}" if detail else text)


class RunNotFound(ProblemError):
    """The server has no run with id `run_id` (HTTP 404 on a run's URL)."""

    def __init__(self, run_id: str, problem: ProblemError) -> None:
        self.run_id = run_id
        super().__init__(problem.status, problem.title, problem.detail, problem.reason)


class RunIdPrefixError(ClientError):
    """A short run id matches no run (`matches` is empty), or several runs.

    Attributes:
        prefix: The short run id given.
        matches: Run ids that start with it (the first few, when `more` is true).
        more: Other runs may match too.
    """

    def __init__(self, prefix: str, matches: tuple[str, ...], more: bool = False) -> None:
        self.prefix = prefix
        self.matches = matches
        self.more = more
        if not matches:
            message = f"no run id starts with {prefix!r}"
        else:
            listed = ", ".join(matches) + (", ..." if more else "")
            message = f"{prefix!r} is ambiguous: it matches {listed}"
        super().__init__(message)


class ConnectionFailed(ClientError):
    """No answer from the server at `url`: refused, unreachable, reset; `reason` says which."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot reach the pyoco-server at {url}: {reason}")


class TimedOut(ClientError):
    """Something did not happen within `timeout` seconds.

    Attributes:
        url: The server's URL.
        timeout: The time that ran out, in seconds.
        run_id: The run that did not end in time (`wait`, `watch`), or None when the server did
            not answer a request in time.
    """

    def __init__(self, url: str, timeout: float, run_id: str | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self.run_id = run_id
        if run_id is None:
            message = f"cannot reach the pyoco-server at {url}: no answer within {timeout:g}s"
        else:
            message = f"run {run_id!r} did not end within {timeout:g}s"
        super().__init__(message)
