"""The in-memory backend: every port of `pyoco_server.ports` without NATS.

It ships with the package, as dramatiq's StubBroker and httpx's MockTransport do, so that the
worker loop, the runner and the services can be tested in milliseconds. It keeps the behaviour
the loops depend on (compare-and-set revisions, redelivery after the ack wait, exhausted
deliveries and their advisory, feeds that push changes) and passes every record through the
codec. End-to-end, fault and contract tests run against a real nats-server instead.
"""

from pyoco_server.memory._backend import MemoryBackend
from pyoco_server.memory._channels import MemoryDeadLetters
from pyoco_server.memory._kv import MemoryBucket, MemoryRunStore
from pyoco_server.memory._queue import MemoryDelivery, MemoryWorkStream

__all__ = [
    "MemoryBackend",
    "MemoryBucket",
    "MemoryDeadLetters",
    "MemoryDelivery",
    "MemoryRunStore",
    "MemoryWorkStream",
]
