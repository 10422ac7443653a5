"""Operations of the `health` tag."""

from __future__ import annotations

from pyoco_server.gateway.responses import Reply, json_reply


class HealthApi:
    """`GET /health`: answers while the process serves HTTP; does not touch NATS."""

    async def get_health(self) -> Reply:
        """Liveness probe."""
        return json_reply({"status": "ok"})
