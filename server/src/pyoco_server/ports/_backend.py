"""Ports of notices and feeds, the metrics source, and the `Backend` that provides every port."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Protocol

from pyoco_server.domain.records import CancelNotice, MaxDeliveriesAdvisory, WorkerState
from pyoco_server.domain.settings import Settings
from pyoco_server.ports._logs import RunLogs
from pyoco_server.ports._records import (
    ApiKeyStore,
    IdempotencyKeys,
    WheelFiles,
    WheelHistory,
    WheelIndex,
    WorkerRegistry,
    WorkflowStore,
)
from pyoco_server.ports._runs import DeadLetters, JobQueue, RunStore, WorkStream


class Subscription(Protocol):
    """A live subscription; closing it stops the deliveries."""

    async def close(self) -> None:
        """Stop delivering (never raises)."""


NoticeHandler = Callable[[CancelNotice], Coroutine[Any, Any, None]]
AdvisoryHandler = Callable[[MaxDeliveriesAdvisory], Coroutine[Any, Any, None]]


class CancelNotifier(Protocol):
    """Tells workers at once that a run was asked to stop."""

    async def notify(self, notice: CancelNotice) -> None:
        """Send the notice (best effort: workers also learn from their next write)."""


class CancelChannel(CancelNotifier, Protocol):
    """Cancel notices, both ways."""

    async def listen(self, handler: NoticeHandler) -> Subscription:
        """Call `handler` for every notice (invalid ones are dropped)."""


class AdvisoryChannel(Protocol):
    """Notices that a job's deliveries ran out (handled once, by whoever listens)."""

    async def listen(self, handler: AdvisoryHandler) -> Subscription:
        """Call `handler` for every advisory of the work stream."""


@dataclasses.dataclass(frozen=True, slots=True)
class QueueDepth:
    """The jobs of one tag, as its durable consumer sees them."""

    tag: str
    pending: int
    """Published and not yet delivered."""
    in_flight: int
    """Delivered and not yet acknowledged."""
    redelivered: int
    """Of those in flight, delivered more than once."""
    delivered_seq: int | None = None
    """The work-stream sequence of the last job the consumer delivered (None: not read)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Deployment:
    """What one scrape read from NATS."""

    queues: tuple[QueueDepth, ...] = ()
    workers: Mapping[WorkerState, int] = dataclasses.field(default_factory=dict)
    dead_letters: int = 0


class DeploymentSource(Protocol):
    """Reads the scrape-time state of the deployment."""

    async def read(self) -> Deployment:
        """The state now; `BackendUnavailable` when NATS cannot answer."""

    async def queue(self, tag: str) -> QueueDepth | None:
        """The jobs of one tag now; None when the tag has no consumer (no worker ever served it).

        Raises:
            BackendUnavailable: NATS cannot answer.
        """


class Bucket(enum.Enum):
    """The buckets whose changes a process can follow."""

    RUNS = "runs"
    API_KEYS = "api_keys"
    WHEEL_INDEX = "wheel_index"
    WORKERS = "workers"


OnPut = Callable[[str, bytes, int], None]
"""Called with (key, value, revision) for every stored value."""
OnDelete = Callable[[str, int], None]
"""Called with (key, revision) for every deleted, purged or expired key."""


@dataclasses.dataclass(frozen=True, slots=True)
class BucketOrigin:
    """Which store a bucket's revisions come from, and the revisions it still holds."""

    identity: str
    """Changes when the bucket is recreated (its stream's creation time): revisions restart."""
    first_revision: int
    """The oldest revision still stored: every older one was removed (expired, or replaced)."""
    last_revision: int
    """The newest revision stored."""


Resume = Callable[[BucketOrigin], int]
"""Told the bucket's origin before a feed starts; returns the revision the follower already
holds everything up to (the feed then delivers only later changes), or 0 for everything."""


class Feed(Protocol):
    """A bucket followed in memory: its current values, then every change, pushed."""

    @property
    def loaded(self) -> bool:
        """True once the values stored when the feed started have been delivered."""

    async def wait_loaded(self, timeout: float | None = None) -> bool:
        """Wait for the initial values; False on timeout."""

    def start(self) -> None:
        """Start following (in the background, once the backend is ready)."""

    async def stop(self) -> None:
        """Stop following."""


class Backend(Protocol):
    """Every port, from one connection; built once per process and passed down."""

    @property
    def settings(self) -> Settings:
        """The settings the backend was built with."""

    @property
    def runs(self) -> RunStore:
        """Run snapshots."""

    @property
    def jobs(self) -> JobQueue:
        """The work stream's jobs."""

    @property
    def work(self) -> WorkStream:
        """Work-stream messages by sequence."""

    @property
    def dead_letters(self) -> DeadLetters:
        """The dead-letter stream."""

    @property
    def workers(self) -> WorkerRegistry:
        """The worker registry."""

    @property
    def idempotency(self) -> IdempotencyKeys:
        """Idempotency-Key records."""

    @property
    def cancels(self) -> CancelChannel:
        """Cancel notices."""

    @property
    def advisories(self) -> AdvisoryChannel:
        """Max-deliveries advisories."""

    @property
    def api_keys(self) -> ApiKeyStore:
        """API key records."""

    @property
    def wheel_files(self) -> WheelFiles:
        """Wheel files."""

    @property
    def wheel_index(self) -> WheelIndex:
        """The wheel index."""

    @property
    def wheel_history(self) -> WheelHistory:
        """Wheel uploads and deletions."""

    @property
    def workflows(self) -> WorkflowStore:
        """Submitted flow.yaml files."""

    @property
    def logs(self) -> RunLogs:
        """Runs' task logs."""

    @property
    def deployment(self) -> DeploymentSource:
        """What a metrics scrape reads."""

    @property
    def ready(self) -> bool:
        """True while connected with the resources in place."""

    def follow(
        self, bucket: Bucket, on_put: OnPut, on_delete: OnDelete, resume: Resume | None = None
    ) -> Feed:
        """A feed of `bucket`'s changes (not started); `resume` lets it skip what is held."""

    async def start(self) -> None:
        """Begin connecting (in the background); returns at once."""

    async def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until ready; False on timeout."""

    def unavailable_reason(self) -> str:
        """Why the backend is not ready, for a person (what to fix, when it is known)."""

    async def round_trip(self) -> None:
        """Return once the server has processed everything this process sent before the call.

        Raises:
            BackendUnavailable: no answer in time (the messages may be lost).
        """

    async def close(self) -> None:
        """Disconnect (pending acknowledgements and publishes flushed first)."""
