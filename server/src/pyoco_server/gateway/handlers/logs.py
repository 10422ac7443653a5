"""Operations of the `logs` tag: what runs' tasks printed and logged.

`GET /runs/{run_id}/logs` answers a page of the run's records, or with `follow=true` a
server-sent event stream of them (services/runlogs.py): `log` events (id: the record's `seq`),
`heartbeat` events in silences, and an `end` event with the run's status once it ended and every
record was sent. A stream takes one of the watch slots (gateway/watch.py), given back however
it ends; `Last-Event-ID` resumes after the record it names.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse

from pyoco_server.domain.codec import dumps
from pyoco_server.domain.errors import InvalidInput
from pyoco_server.gateway._connexion import current_header
from pyoco_server.gateway.access import current_principal, current_tenant
from pyoco_server.gateway.responses import Reply, json_reply
from pyoco_server.gateway.watch import EventStream, WatchSlots
from pyoco_server.ports import StoredLogRecord
from pyoco_server.services.runlogs import LogFollow, RunLogService


class LogsApi:
    """Handler of `/runs/{run_id}/logs`."""

    def __init__(self, service: RunLogService, slots: WatchSlots, heartbeat_sec: float) -> None:
        self._service = service
        self._slots = slots
        self._heartbeat_sec = heartbeat_sec

    async def get_run_logs(
        self,
        run_id: str,
        task: str | None = None,
        after: int = 0,
        limit: int = 200,
        follow: bool = False,
        timeout_sec: float = 600.0,
    ) -> Reply | StreamingResponse:
        """A page of a run's log records, or with `follow` an event stream of them."""
        if follow:
            return await self._follow(run_id, task, after, timeout_sec)
        page = await self._service.page(
            run_id, current_tenant(), task=task, after=after, limit=limit
        )
        return json_reply(
            {
                "run_id": run_id,
                "items": [record_view(stored) for stored in page.items],
                "next_after": page.next_after,
                "truncated": page.truncated,
            }
        )

    async def _follow(
        self, run_id: str, task: str | None, after: int, timeout_sec: float
    ) -> StreamingResponse:
        resume = _resume_after(current_header(b"last-event-id"))
        principal = current_principal()
        free_slot = self._slots.take(principal.key_id if principal else None)
        try:
            follow = await self._service.follow(run_id, current_tenant(), max(after, resume))
        except BaseException:
            free_slot()
            raise

        def close() -> None:
            follow.close()
            free_slot()

        return EventStream(self._events(follow, task, timeout_sec), close)

    async def _events(
        self, follow: LogFollow, task: str | None, timeout_sec: float
    ) -> AsyncIterator[bytes]:
        run_id = follow.run_id
        async for event in follow.events(task, timeout_sec, self._heartbeat_sec):
            if event.stored is not None:
                data = dumps(record_view(event.stored))
                yield b"id: %d\nevent: log\ndata: %s\n\n" % (event.stored.seq, data)
            elif event.status is not None:
                data = dumps({"run_id": run_id, "status": event.status.value})
                yield b"event: end\ndata: %s\n\n" % data
            else:
                yield b"event: heartbeat\ndata: %s\n\n" % dumps(
                    {"run_id": run_id, "ts": time.time()}
                )


def record_view(stored: StoredLogRecord) -> dict[str, Any]:
    """A record as the API shows it (openapi.yaml `LogRecord`), every field present."""
    record = stored.record
    return {
        "seq": stored.seq,
        "run_id": record.run_id,
        "attempt": record.attempt,
        "task": record.task,
        "stream": record.stream.value,
        "level": record.level,
        "logger": record.logger,
        "message": record.message,
        "ts": record.ts,
    }


def _resume_after(last_event_id: str | None) -> int:
    if last_event_id is None or not last_event_id.strip():
        return 0
    if not last_event_id.strip().isdigit():
        raise InvalidInput("Last-Event-ID must be the id of a log event (a record's seq)")
    return int(last_event_id)
