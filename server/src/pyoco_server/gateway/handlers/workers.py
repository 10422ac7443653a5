"""Operations of the `workers` tag: list the worker registry and hide or show a worker."""

from __future__ import annotations

from typing import Any

from pyoco_server.domain.codec import WORKER_RECORD
from pyoco_server.domain.records import WorkerState
from pyoco_server.gateway.responses import Reply, json_reply
from pyoco_server.services.workers import Scope, WorkerService


class WorkersApi:
    """Handlers of `/workers*`; each method is the operationId of one operation."""

    def __init__(self, service: WorkerService) -> None:
        self._service = service

    async def list_workers(
        self,
        scope: str = Scope.ACTIVE.value,
        state: str | None = None,
        include_hidden: bool = False,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Reply:
        """`GET /workers`: a page, `{"items": [...], "next_cursor": ...}`."""
        page = await self._service.list(
            scope=Scope(scope),
            state=None if state is None else WorkerState(state),
            include_hidden=include_hidden,
            limit=limit,
            cursor=cursor,
        )
        items = [WORKER_RECORD.to_dict(record) for record in page.items]
        return json_reply({"items": items, "next_cursor": page.next_cursor})

    async def update_worker(self, worker_id: str, body: dict[str, Any]) -> Reply:
        """`PATCH /workers/{worker_id}`."""
        record = await self._service.set_hidden(worker_id, bool(body["hidden"]))
        return json_reply(WORKER_RECORD.to_dict(record))
