"""Logging set-up for the CLIs: text or JSON lines on stderr (PYOCO_LOG_FORMAT, PYOCO_LOG_LEVEL).

Every record carries `request_id`: the id of the HTTP request being handled when it was
logged (bound by the gateway's request-id middleware with `request_context`), "-" elsewhere.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import time
from collections.abc import Iterator
from typing import Any

from pyoco_server.domain.settings import Settings

NO_REQUEST = "-"
"""`request_id` of a record logged outside any request."""

_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "pyoco_request_id", default=NO_REQUEST
)


@contextlib.contextmanager
def request_context(request_id: str) -> Iterator[None]:
    """Bind `request_id` to everything logged inside the block (in this task and its copies)."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def current_request_id() -> str:
    """The id of the request being handled, or `NO_REQUEST`."""
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (unless the call passed one in `extra`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate `record`; never drops it."""
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, service, logger, request_id, message, extras."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` as a JSON line."""
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "request_id": getattr(record, "request_id", NO_REQUEST),
            "message": record.getMessage(),
        }
        entry.update({key: value for key, value in record.__dict__.items() if key not in _STANDARD})
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(settings: Settings, service: str) -> None:
    """Send this process's logs to stderr in the configured format and level."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(
            logging.Formatter(
                f"%(asctime)s %(levelname)s {service} [%(request_id)s] %(name)s: %(message)s"
            )
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # uvicorn gives its logger a text handler of its own; route it through ours instead, so
    # its lines (an error in the application among them) have the same format.
    server = logging.getLogger("uvicorn")
    server.handlers[:] = []
    server.propagate = True
    # Connexion logs every 4xx at WARNING; they are the client's business, not the operator's.
    logging.getLogger("connexion.middleware.exceptions").setLevel(logging.ERROR)
