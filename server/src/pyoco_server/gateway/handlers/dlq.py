"""Operations of the `dlq` tag: page through dead letters and drive one again."""

from __future__ import annotations

from typing import Any

from pyoco_server.domain.codec import DEAD_LETTER
from pyoco_server.domain.records import DeadLetterReason
from pyoco_server.gateway.responses import Reply, json_reply
from pyoco_server.ports import StoredDeadLetter
from pyoco_server.services.deadletters import DeadLetterService


class DlqApi:
    """Handlers of `/dlq*`; each method is the operationId of one operation."""

    def __init__(self, service: DeadLetterService) -> None:
        self._service = service

    async def list_dead_letters(
        self,
        reason: str | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Reply:
        """`GET /dlq`."""
        page = await self._service.page(
            reason=None if reason is None else DeadLetterReason(reason),
            tag=tag,
            limit=limit,
            cursor=cursor,
        )
        next_cursor = None if page.next_seq is None else str(page.next_seq)
        return json_reply(
            {"items": [_item(item) for item in page.items], "next_cursor": next_cursor}
        )

    async def redrive_dead_letter(self, dead_letter_id: str) -> Reply:
        """`POST /dlq/{dead_letter_id}/redrive`."""
        snapshot = await self._service.redrive(dead_letter_id)
        body = {
            "run_id": snapshot.run_id,
            "status": snapshot.status.value,
            "flow_name": snapshot.flow_name,
            "tag": snapshot.tag,
        }
        return json_reply(body)


# openapi.yaml `DeadLetter` lists these as nullable: a page shows them as null,
# where the stored record (omit_none) leaves them out.
_NULLABLE = ("subject", "run_id", "flow_name", "worker_id", "num_delivered", "payload")


def _item(stored: StoredDeadLetter) -> dict[str, Any]:
    """openapi.yaml `DeadLetter`: the record without its job, with its id and `redrivable`."""
    data = DEAD_LETTER.to_dict(stored.letter)
    data.pop("job", None)
    for name in _NULLABLE:
        data.setdefault(name, None)
    return {"id": str(stored.seq), **data, "redrivable": stored.letter.job is not None}
