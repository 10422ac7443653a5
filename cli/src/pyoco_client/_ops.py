"""The operators' side of `Client`: workers, dead letters, metrics, wheels, health.

`Client` inherits these methods; they send their requests with its `_run`. Most need an admin
key when API keys are on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from pyoco_client import _calls as calls
from pyoco_client._calls import Call, JsonObject

T = TypeVar("T")

JsonList = list[JsonObject]


class Ops:
    """Operations on the deployment rather than on runs; the base of `Client`."""

    def workers(
        self,
        *,
        scope: str = "active",
        state: str | None = None,
        include_hidden: bool = False,
        limit: int = 100,
    ) -> JsonList:
        """The worker registry (`GET /workers`, admin keys only), in worker id order.

        Args:
            scope: "active" for RUNNING and IDLE workers, "all" for every record kept.
            state: Only workers in this state (RUNNING, IDLE, STOPPED_GRACEFUL, DISCONNECTED).
            include_hidden: Include hidden workers.
            limit: At most this many workers (1 to 500).
        """
        return self._run(calls.workers(scope, state, include_hidden, limit))

    def hide_worker(self, worker_id: str) -> JsonObject:
        """Hide a worker from `workers` (kept across its restarts); its record after."""
        return self._run(calls.set_worker_hidden(worker_id, True))

    def unhide_worker(self, worker_id: str) -> JsonObject:
        """Show a hidden worker in `workers` again; its record after."""
        return self._run(calls.set_worker_hidden(worker_id, False))

    def dead_letters(
        self, *, reason: str | None = None, tag: str | None = None, page_size: int = 50
    ) -> Iterator[JsonObject]:
        """Every dead letter (`GET /dlq`, admin keys only), newest first, a page at a time.

        Args:
            reason: Only dead letters of this reason (`flow_not_found`, ...).
            tag: Only dead letters of this tag.
            page_size: Records fetched per request (1 to 200).
        """
        cursor = None
        while True:
            page = self._run(calls.dead_letters_page(reason, tag, page_size, cursor))
            yield from page["items"]
            if (cursor := page["next_cursor"]) is None:
                return

    def dead_letters_page(
        self,
        *,
        reason: str | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> JsonObject:
        """One page of dead letters: `{"items": [...], "next_cursor": str | None}`."""
        return self._run(calls.dead_letters_page(reason, tag, limit, cursor))

    def redrive(self, dead_letter_id: str) -> JsonObject:
        """Queue a dead letter's run again (`POST /dlq/{id}/redrive`); the accepted run."""
        return self._run(calls.redrive(dead_letter_id))

    def metrics(self) -> str:
        """The gateway's Prometheus metrics, as text (`GET /metrics`, admin keys only)."""
        return self._run(calls.metrics())

    def wheels(self) -> JsonList:
        """The wheels in the registry (`GET /wheels`), by name."""
        return self._run(calls.wheels())

    def wheel_history(
        self, *, limit: int = 100, wheel_name: str | None = None, action: str | None = None
    ) -> JsonList:
        """Uploads and deletions, newest first (`GET /wheels/history`, admin keys only)."""
        return self._run(calls.wheel_history(limit, wheel_name, action))

    def upload_wheel(
        self, path: str | Path, *, tags: str | None = None, replace: bool = True
    ) -> JsonObject:
        """Upload the wheel file at `path` (`POST /wheels`, admin keys only); the stored wheel.

        Args:
            path: The wheel file (its name is the wheel's name).
            tags: Comma-separated tags limiting which workers and runs get it (none: all).
            replace: False refuses the upload when the distribution already has a version.
        """
        wheel = Path(path)
        with wheel.open("rb") as payload:
            return self._run(calls.wheel_upload(payload, wheel.name, tags, replace))

    def delete_wheel(self, name: str) -> JsonObject:
        """Delete a wheel version (`DELETE /wheels/{name}`, admin keys only)."""
        return self._run(calls.wheel_delete(name))

    def health(self) -> JsonObject:
        """The gateway's liveness (`GET /health`): `{"status": "ok"}` while it serves HTTP."""
        return self._run(calls.health())

    def _run(self, call: Call[T]) -> T:
        """Send `call`; `Client` provides it."""
        raise NotImplementedError
