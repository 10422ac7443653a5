"""Operations of the `views` tag: the run list's event stream and a run's task graph."""

from __future__ import annotations

from typing import Any

from pyoco_server.domain.errors import InvalidInput
from pyoco_server.gateway.responses import Reply


class ViewsApi:
    """`GET /runs/events` and `GET /runs/{run_id}/graph` (being built: issue 13)."""

    async def follow_runs(self, **_query: Any) -> Reply:
        """The run list's changes as server-sent events."""
        raise InvalidInput("the run list's event stream is not served by this gateway yet")

    async def get_run_graph(self, run_id: str) -> Reply:
        """A run's task graph with each task's state."""
        raise InvalidInput(f"the graph of run {run_id!r} is not served by this gateway yet")
