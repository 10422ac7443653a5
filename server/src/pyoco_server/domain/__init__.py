"""The records and rules: what a run, a job, a worker and a key are, and how they may change.

No I/O here (settings read the environment once, at the edge). Everything else builds on it:

- `records`, `snapshot`: the frozen dataclasses of asyncapi.yaml; the snapshot carries the run's
  state machine (`claimed`, `finished`, `cancel_requested`, ...);
- `codec`: the only place records become bytes and back, validated against asyncapi.yaml;
- `errors`: the error tree; `cas`: the compare-and-set loop every stored record goes through;
- `settings`: every tunable, built once by `Settings.from_env()` (`envparse`: how each is read;
  `settingdocs`: what each is for and which programs read it, the source of docs/config.md);
- `names`, `subjects`: identifier rules and the NATS names derived from settings;
- `keys`: API key format, issuing and verifying, and the principal a key stands for;
- `workflow`: flow.yaml parsing and validation.
"""

from pyoco_server.domain import codec, keys, names
from pyoco_server.domain.errors import (
    BackendUnavailable,
    PyocoError,
    RevisionConflict,
    StaleAttempt,
)
from pyoco_server.domain.records import (
    ApiKey,
    CancelNotice,
    DeadLetter,
    DeadLetterReason,
    IdempotencyRecord,
    Job,
    MaxDeliveriesAdvisory,
    RetryPolicy,
    Role,
    WorkerRecord,
    WorkerState,
)
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import (
    AttemptRecord,
    AttemptStatus,
    FailureReason,
    RunSnapshot,
    RunStatus,
    TaskRecord,
    TaskState,
)
from pyoco_server.domain.subjects import Subjects

__all__ = [
    "ApiKey",
    "AttemptRecord",
    "AttemptStatus",
    "BackendUnavailable",
    "CancelNotice",
    "DeadLetter",
    "DeadLetterReason",
    "FailureReason",
    "IdempotencyRecord",
    "Job",
    "MaxDeliveriesAdvisory",
    "PyocoError",
    "RetryPolicy",
    "RevisionConflict",
    "Role",
    "RunSnapshot",
    "RunStatus",
    "Settings",
    "StaleAttempt",
    "Subjects",
    "TaskRecord",
    "TaskState",
    "WorkerRecord",
    "WorkerState",
    "codec",
    "keys",
    "names",
]
