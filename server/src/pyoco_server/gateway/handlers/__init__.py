"""The operations of openapi.yaml, one module per tag: each class's methods are operationIds."""

from pyoco_server.gateway.handlers.dlq import DlqApi
from pyoco_server.gateway.handlers.health import HealthApi
from pyoco_server.gateway.handlers.logs import LogsApi
from pyoco_server.gateway.handlers.ops import OpsApi
from pyoco_server.gateway.handlers.runs import RunsApi
from pyoco_server.gateway.handlers.views import ViewsApi
from pyoco_server.gateway.handlers.wheels import WheelsApi
from pyoco_server.gateway.handlers.workers import WorkersApi

__all__ = [
    "DlqApi",
    "HealthApi",
    "LogsApi",
    "OpsApi",
    "RunsApi",
    "ViewsApi",
    "WheelsApi",
    "WorkersApi",
]
