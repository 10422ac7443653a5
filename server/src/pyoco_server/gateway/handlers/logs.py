"""Operations of the `logs` tag: what runs' tasks printed and logged."""

from __future__ import annotations

from typing import Any

from pyoco_server.domain.errors import InvalidInput
from pyoco_server.gateway.responses import Reply


class LogsApi:
    """`GET /runs/{run_id}/logs` (being built: issue 12)."""

    async def get_run_logs(self, run_id: str, **_query: Any) -> Reply:
        """A page of a run's log records, or with `follow` an event stream of them."""
        raise InvalidInput(f"logs of run {run_id!r}: not served by this gateway yet")
