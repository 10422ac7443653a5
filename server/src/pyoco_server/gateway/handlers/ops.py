"""Operations of the `ops` tag: Prometheus metrics and the last hour's throughput."""

from __future__ import annotations

import logging

from connexion.lifecycle import ConnexionResponse

from pyoco_server.domain.errors import BackendUnavailable
from pyoco_server.gateway.metrics import CONTENT_TYPE, GatewayMetrics
from pyoco_server.gateway.responses import Reply, json_reply
from pyoco_server.ports import DeploymentSource

log = logging.getLogger(__name__)


class OpsApi:
    """Handlers of `/metrics`; each method is the operationId of one operation."""

    def __init__(self, metrics: GatewayMetrics, deployment: DeploymentSource) -> None:
        self._metrics = metrics
        self._deployment = deployment

    async def get_metrics_history(self) -> Reply:
        """`GET /metrics/history`: this process's last hour, in 10-second buckets."""
        return json_reply(self._metrics.history.history())

    async def get_metrics(self) -> ConnexionResponse:
        """`GET /metrics`: the Prometheus text format, version 0.0.4.

        A response rather than a (body, status, headers) tuple: Connexion compares a returned
        Content-Type with the spec's media types as a whole string, so `text/plain` with the
        format's `version` parameter would be refused as undocumented.
        """
        try:
            deployment = await self._deployment.read()
        except BackendUnavailable as exc:
            # The scraper sees a 503 only as a failed target; say why here.
            log.warning("metrics not collected: %s", exc.detail)
            raise
        return ConnexionResponse(
            status_code=200, content_type=CONTENT_TYPE, body=self._metrics.render(deployment)
        )
