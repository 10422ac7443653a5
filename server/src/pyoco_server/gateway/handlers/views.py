"""Operations of the `views` tag: the run list's event stream and a run's task graph."""

from __future__ import annotations

from starlette.responses import StreamingResponse

from pyoco_server.gateway._connexion import current_header
from pyoco_server.gateway.access import current_principal, current_tenant, listed_tenant
from pyoco_server.gateway.responses import Reply, json_reply
from pyoco_server.gateway.runevents import RunEvents
from pyoco_server.services.graphs import RunGraphs
from pyoco_server.services.runfeed import ListFilter
from pyoco_server.services.runs import RunService


class ViewsApi:
    """Handlers of `GET /runs/events` and `GET /runs/{run_id}/graph`."""

    def __init__(self, service: RunService, events: RunEvents, graphs: RunGraphs) -> None:
        self._service = service
        self._events = events
        self._graphs = graphs

    async def follow_runs(
        self,
        status: str | None = None,
        flow: str | None = None,
        tag: str | None = None,
        label: str | None = None,
        tenant: str | None = None,
        timeout_sec: float = 3600.0,
    ) -> StreamingResponse:
        """`GET /runs/events` (server-sent events)."""
        principal = current_principal()
        scope = ListFilter(
            tenant=listed_tenant(tenant),
            status=status,
            flow_name=flow,
            tag=tag,
            label=label,
        )
        return self._events.open(
            scope,
            timeout_sec=timeout_sec,
            last_event_id=current_header(b"last-event-id"),
            key_id=principal.key_id if principal else None,
        )

    async def get_run_graph(self, run_id: str) -> Reply:
        """`GET /runs/{run_id}/graph`."""
        stored = await self._service.get(run_id, current_tenant())
        return json_reply(await self._graphs.graph(stored.snapshot))
