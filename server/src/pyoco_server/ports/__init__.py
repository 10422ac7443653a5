"""The ports: the narrow interfaces through which the services, the gateway and the worker use NATS.

A `Backend` provides every port from one connection: `pyoco_server.jetstream.NatsBackend`, or
`pyoco_server.memory.MemoryBackend` for fast tests of the loops.

::

    Backend
    ├── runs          RunStore           run snapshots, every write a compare-and-set
    ├── jobs          JobQueue           the work stream: publish, and subscribe per tag
    ├── work          WorkStream         work-stream messages by sequence
    ├── dead_letters  DeadLetters        the dead-letter stream (publish, page, get, delete)
    ├── workers       WorkerRegistry     worker records
    ├── idempotency   IdempotencyKeys    which run each Idempotency-Key created
    ├── cancels       CancelChannel      cancel notices, sent and received at once
    ├── advisories    AdvisoryChannel    exhausted deliveries
    ├── api_keys      ApiKeyStore        API key records
    ├── wheel_files   WheelFiles         wheel files, by content (the object store)
    ├── wheel_index   WheelIndex         every version of each distribution (compare-and-set)
    ├── wheel_history WheelHistory       uploads and deletions
    ├── workflows     WorkflowStore      submitted flow.yaml files, by content
    ├── logs          RunLogs            what runs' tasks printed and logged, per run
    ├── deployment    DeploymentSource   what a metrics scrape reads
    └── follow()      Feed               a bucket's changes, pushed (runs, API keys, wheel index,
                                         workers)
"""

from pyoco_server.ports._backend import (
    AdvisoryChannel,
    AdvisoryHandler,
    Backend,
    Bucket,
    BucketOrigin,
    CancelChannel,
    CancelNotifier,
    Deployment,
    DeploymentSource,
    Feed,
    NoticeHandler,
    OnDelete,
    OnPut,
    QueueDepth,
    Resume,
    Subscription,
)
from pyoco_server.ports._logs import LogSignal, LogSlice, RunLogs, StoredLogRecord
from pyoco_server.ports._records import (
    ApiKeyLookup,
    ApiKeyStore,
    IdempotencyKeys,
    StoredApiKey,
    StoredWheelIndex,
    StoredWorker,
    WheelFiles,
    WheelHistory,
    WheelIndex,
    WorkerRegistry,
    WorkflowStore,
)
from pyoco_server.ports._runs import (
    DeadLetters,
    DeadLetterSink,
    DeadLetterSlice,
    Delivery,
    JobQueue,
    RunStore,
    StoredDeadLetter,
    StoredSnapshot,
    TagSubscription,
    WorkStream,
)

__all__ = [
    "AdvisoryChannel",
    "AdvisoryHandler",
    "ApiKeyLookup",
    "ApiKeyStore",
    "Backend",
    "Bucket",
    "BucketOrigin",
    "CancelChannel",
    "CancelNotifier",
    "DeadLetterSink",
    "DeadLetterSlice",
    "DeadLetters",
    "Delivery",
    "Deployment",
    "DeploymentSource",
    "Feed",
    "IdempotencyKeys",
    "JobQueue",
    "LogSignal",
    "LogSlice",
    "NoticeHandler",
    "OnDelete",
    "OnPut",
    "QueueDepth",
    "Resume",
    "RunLogs",
    "RunStore",
    "StoredApiKey",
    "StoredDeadLetter",
    "StoredLogRecord",
    "StoredSnapshot",
    "StoredWheelIndex",
    "StoredWorker",
    "Subscription",
    "TagSubscription",
    "WheelFiles",
    "WheelHistory",
    "WheelIndex",
    "WorkStream",
    "WorkerRegistry",
    "WorkflowStore",
]
