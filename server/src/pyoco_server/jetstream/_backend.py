"""`NatsBackend`: every port on one NATS connection."""

from __future__ import annotations

import math

from pyoco_server.domain.settings import Settings
from pyoco_server.jetstream._advisories import NatsAdvisories, NatsWorkStream
from pyoco_server.jetstream._api_keys import NatsApiKeys
from pyoco_server.jetstream._cancels import NatsCancelNotices
from pyoco_server.jetstream._connection import Connection, translate_errors
from pyoco_server.jetstream._dead_letters import NatsDeadLetters
from pyoco_server.jetstream._deployment import NatsDeployment
from pyoco_server.jetstream._idempotency_keys import NatsIdempotencyKeys
from pyoco_server.jetstream._job_queue import NatsJobQueue
from pyoco_server.jetstream._mirror import BucketMirror
from pyoco_server.jetstream._run_logs import NatsRunLogs
from pyoco_server.jetstream._run_store import NatsRunStore
from pyoco_server.jetstream._wheels import NatsWheelFiles, NatsWheelHistory, NatsWheelIndex
from pyoco_server.jetstream._worker_registry import NatsWorkerRegistry
from pyoco_server.jetstream._workflows import NatsWorkflows
from pyoco_server.ports import Bucket, OnDelete, OnPut, Resume


class NatsBackend:
    """The ports of `pyoco_server.ports` on JetStream, sharing one connection.

    The connection connects and reconnects in the background; until it is ready every port
    fails fast with `BackendUnavailable`.
    """

    def __init__(self, settings: Settings, name: str, role: str = "admin") -> None:
        self.settings = settings
        self.connection = Connection(settings, name, role)
        self.runs = NatsRunStore(self.connection)
        self.jobs = NatsJobQueue(self.connection)
        self.work = NatsWorkStream(self.connection)
        self.dead_letters = NatsDeadLetters(self.connection)
        self.workers = NatsWorkerRegistry(self.connection)
        self.idempotency = NatsIdempotencyKeys(self.connection)
        self.cancels = NatsCancelNotices(self.connection)
        self.advisories = NatsAdvisories(self.connection)
        self.api_keys = NatsApiKeys(self.connection)
        self.wheel_files = NatsWheelFiles(self.connection)
        self.wheel_index = NatsWheelIndex(self.connection)
        self.wheel_history = NatsWheelHistory(self.connection)
        self.deployment = NatsDeployment(self.connection)
        self.logs = NatsRunLogs(self.connection)
        self.workflows = NatsWorkflows(self.connection)

    @property
    def ready(self) -> bool:
        """True while connected with the resources in place."""
        return self.connection.ready

    def follow(
        self, bucket: Bucket, on_put: OnPut, on_delete: OnDelete, resume: Resume | None = None
    ) -> BucketMirror:
        """A watch of `bucket` calling back on every change (not started)."""
        names = {
            Bucket.RUNS: self.settings.runs_kv_bucket,
            Bucket.API_KEYS: self.settings.auth_kv_bucket,
            Bucket.WHEEL_INDEX: self.settings.wheel_index_kv_bucket,
            Bucket.WORKERS: self.settings.workers_kv_bucket,
        }
        return BucketMirror(self.connection, names[bucket], on_put, on_delete, resume)

    async def start(self) -> None:
        """Begin connecting in the background."""
        await self.connection.start()

    async def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until connected with the resources ensured; False on timeout."""
        return await self.connection.wait_ready(timeout)

    def unavailable_reason(self) -> str:
        """Why NATS cannot be used now (refused credentials, or no answer)."""
        return self.connection.unavailable_reason()

    async def round_trip(self) -> None:
        """A PING answered by the server: everything sent before it was processed."""
        with translate_errors("waiting for NATS to answer"):
            # nats-py types the timeout as whole seconds.
            await self.connection.nc.flush(
                timeout=math.ceil(self.settings.nats_request_timeout_sec)
            )

    async def close(self) -> None:
        """Close the connection."""
        await self.connection.close()
