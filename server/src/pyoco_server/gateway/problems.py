"""The one table mapping pyoco-server errors (and framework errors) to problem responses."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from connexion.exceptions import (
    BadRequestProblem,
    ProblemException,
    UnsupportedMediaTypeProblem,
)
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.problem import problem
from starlette.formparsers import MultiPartException

from pyoco_server.domain.errors import (
    BackendUnavailable,
    CallableNotAllowed,
    DeadLetterNotFound,
    ForbiddenTenant,
    GatewayBusy,
    IdempotencyConflict,
    IdempotencyInProgress,
    InvalidInput,
    InvalidLabels,
    InvalidRequirement,
    InvalidWheel,
    InvalidWorkflow,
    NotRedrivable,
    PayloadTooLarge,
    PyocoError,
    RequestError,
    RunNotFound,
    TooManyRequests,
    UnknownRequirement,
    WheelConflict,
    WheelNotFound,
    WorkerNotFound,
    WorkflowNotStored,
)

log = logging.getLogger(__name__)

_IN_PROGRESS_RETRY_AFTER_SEC = 1
"""Retry-After of a repeat whose first submit is still being stored (a submit takes ms)."""

_TABLE: tuple[tuple[type[PyocoError], int, str], ...] = (
    (InvalidInput, 400, "Bad Request"),
    (RunNotFound, 404, "Not Found"),
    (WorkerNotFound, 404, "Not Found"),
    (DeadLetterNotFound, 404, "Not Found"),
    (WheelNotFound, 404, "Not Found"),
    (NotRedrivable, 409, "Conflict"),
    (WheelConflict, 409, "Conflict"),
    (IdempotencyConflict, 409, "Conflict"),
    (IdempotencyInProgress, 409, "Conflict"),
    (WorkflowNotStored, 409, "Conflict"),
    (ForbiddenTenant, 403, "Forbidden"),
    (PayloadTooLarge, 413, "Payload Too Large"),
    (InvalidWorkflow, 422, "Unprocessable Entity"),
    (CallableNotAllowed, 422, "Unprocessable Entity"),
    (InvalidWheel, 422, "Unprocessable Entity"),
    (InvalidLabels, 422, "Unprocessable Entity"),
    (InvalidRequirement, 422, "Unprocessable Entity"),
    (UnknownRequirement, 422, "Unprocessable Entity"),
    (TooManyRequests, 429, "Too Many Requests"),
    (RequestError, 400, "Bad Request"),
    (BackendUnavailable, 503, "Service Unavailable"),
)


def status_of(exc: PyocoError) -> tuple[int, str]:
    """HTTP status and title for an error of the tree (500 for anything unexpected)."""
    for kind, status, title in _TABLE:
        if isinstance(exc, kind):
            return status, title
    return 500, "Internal Server Error"


def problem_for(exc: PyocoError) -> ConnexionResponse:
    """The problem response for an error of the tree."""
    status, title = status_of(exc)
    headers: dict[str, str] = {}
    ext: dict[str, Any] = {}
    if isinstance(exc, RequestError):
        detail = exc.detail
        ext["reason"] = exc.reason
        if isinstance(exc, TooManyRequests):
            headers["Retry-After"] = str(exc.retry_after)
        if isinstance(exc, IdempotencyInProgress):
            headers["Retry-After"] = str(_IN_PROGRESS_RETRY_AFTER_SEC)
        if isinstance(exc, PayloadTooLarge):
            headers["Connection"] = "close"  # the rest of the body is not worth reading
    elif isinstance(exc, BackendUnavailable):
        detail = exc.detail
        headers["Retry-After"] = str(exc.retry_after)
        ext["reason"] = exc.reason
        if isinstance(exc, GatewayBusy):
            headers["Connection"] = "close"  # its body was not read
    else:
        log.error("unexpected %s: %s", type(exc).__name__, exc)
        detail = "the server failed to handle the request; see its log"
    return problem(status, title, detail, headers=headers or None, ext=ext or None)


async def handle_pyoco_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Connexion error handler for `PyocoError`."""
    assert isinstance(exc, PyocoError)
    return problem_for(exc)


_FILE_FIELDS = {"/wheels": "wheel=@my_ext-0.1.0-py3-none-any.whl"}
"""The file field of each multipart operation but POST /runs/yaml, for the hint."""


async def handle_multipart_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Starlette raises on a malformed multipart body; that is the client's error (400)."""
    field = _FILE_FIELDS.get(request.url.path, "workflow=@flow.yaml")
    return problem(
        400,
        "Bad Request",
        f"the multipart/form-data body is malformed: {exc}; send the file as form field "
        f"'{field.partition('=')[0]}' (curl -F {field})",
        ext={"reason": "invalid_multipart"},
    )


class MethodNotAllowed:
    """405 handler whose `Allow` names every method the spec declares for the path.

    Starlette routes each operation separately and would name only the first route's methods.
    """

    _METHODS = ("get", "put", "post", "delete", "patch")

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self._paths = [
            (
                re.compile("^" + re.sub(r"\\\{[^/}]+\\\}", "[^/]+", re.escape(path)) + "$"),
                _allow(item),
            )
            for path, item in spec["paths"].items()
        ]

    async def __call__(self, request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        """The 405 problem for `request`."""
        path = request.url.path
        allow = next((allow for pattern, allow in self._paths if pattern.match(path)), None)
        detail = f"{request.method} is not allowed on {path}"
        if allow:
            detail += f"; use {allow}"
        return problem(
            405,
            "Method Not Allowed",
            detail,
            headers={"Allow": allow} if allow else None,
            ext={"reason": "method_not_allowed"},
        )


def _allow(path_item: Mapping[str, Any]) -> str:
    methods = [method.upper() for method in MethodNotAllowed._METHODS if method in path_item]
    if "GET" in methods:
        methods.append("HEAD")
    return ", ".join(methods)


_FRAMEWORK_REASONS: tuple[tuple[type[ProblemException], str], ...] = (
    (BadRequestProblem, "invalid_request"),
    (UnsupportedMediaTypeProblem, "unsupported_media_type"),
)


async def handle_framework_problem(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Connexion's own problems (request validation, ...), with a `reason` like ours."""
    assert isinstance(exc, ProblemException)
    if 400 <= exc.status < 500:
        log.info("refused: %s", exc.detail)
    else:
        log.error("%s: %s", type(exc).__name__, exc.detail)
    ext = dict(exc.ext or {})
    for kind, reason in _FRAMEWORK_REASONS:
        if isinstance(exc, kind):
            ext.setdefault("reason", reason)
            break
    return problem(
        exc.status,
        exc.title or "Error",
        exc.detail,
        type=exc.type,
        instance=exc.instance,
        headers=exc.headers,
        ext=ext or None,
    )


EXCEPTION_HANDLERS = (
    (ProblemException, handle_framework_problem),
    (PyocoError, handle_pyoco_error),
    (MultiPartException, handle_multipart_error),
)
