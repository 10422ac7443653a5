"""The JetStream layer: the only package that imports `nats`."""

from pyoco_server.jetstream._advisories import NatsWorkStream, listen_max_deliveries
from pyoco_server.jetstream._auth import ApiKeyCache, NatsApiKeys
from pyoco_server.jetstream._cancels import NatsCancelNotices
from pyoco_server.jetstream._connection import Connection, translate_errors
from pyoco_server.jetstream._deployment import NatsDeployment
from pyoco_server.jetstream._dlq import NatsDeadLetters
from pyoco_server.jetstream._idempotency import NatsIdempotencyKeys
from pyoco_server.jetstream._mirror import BucketMirror
from pyoco_server.jetstream._queue import NatsDelivery, NatsJobQueue, NatsTagSubscription
from pyoco_server.jetstream._registry import NatsWorkerRegistry
from pyoco_server.jetstream._resources import ensure_resources
from pyoco_server.jetstream._runs import NatsRunStore

__all__ = [
    "ApiKeyCache",
    "BucketMirror",
    "Connection",
    "NatsApiKeys",
    "NatsCancelNotices",
    "NatsDeadLetters",
    "NatsDelivery",
    "NatsDeployment",
    "NatsIdempotencyKeys",
    "NatsJobQueue",
    "NatsRunStore",
    "NatsTagSubscription",
    "NatsWorkStream",
    "NatsWorkerRegistry",
    "ensure_resources",
    "listen_max_deliveries",
    "translate_errors",
]
