"""The errors of pyoco-server, one tree with fields rather than strings.

::

    PyocoError
    ├── SettingsError            a PYOCO_* variable holds a value its setting does not accept
    ├── ContractError            a payload does not match asyncapi.yaml
    │   └── DecodeError          inbound bytes are not a valid message (keeps the raw bytes)
    ├── RequestError             a client sent something we cannot accept (HTTP 4xx)
    │   ├── InvalidInput         malformed field or body                        400
    │   ├── RunNotFound          no run with that id                            404
    │   ├── WorkerNotFound       no worker with that id                         404
    │   ├── DeadLetterNotFound   no dead letter with that id                    404
    │   ├── NotRedrivable        a dead letter that cannot be driven again      409
    │   ├── IdempotencyConflict  an Idempotency-Key reused for another request  409
    │   ├── WorkflowNotStored    a re-run whose flow.yaml is no longer kept     409
    │   ├── ForbiddenTenant      a user key naming another tenant               403
    │   ├── WheelNotFound        no wheel with that name                        404
    │   ├── WheelConflict        a wheel version not higher than the stored one 409
    │   ├── PayloadTooLarge      upload or resulting job over its limit         413
    │   ├── TooManyRequests      a rate or stream limit of the caller reached   429
    │   ├── InvalidWorkflow      flow.yaml that does not parse or validate      422
    │   ├── CallableNotAllowed   a task callable that may not run               422
    │   ├── InvalidWheel         an upload that is not the wheel it says        422
    │   ├── InvalidLabels        a form's `tags` that are not labels            422
    │   └── UnknownRequirement   a pinned wheel version the registry lacks      422
    ├── FlowNotFound             a worker has no flow for the job (worker side)
    ├── RunAbandoned             a run stopped by the worker's shutdown; its job is handed back
    ├── BackupError              a backup directory not usable, or not a backup
    │   └── RestoreTargetInUse   a restore into a deployment that already holds runs
    ├── RevisionConflict         a compare-and-set lost to a newer write
    │   └── StaleAttempt         a newer delivery attempt (or the end of the run) fenced us out
    └── BackendUnavailable       NATS cannot be reached; retry later            503
        ├── TooManyConflicts     a record kept changing under a compare-and-set  503
        └── QueueFull            a stream or bucket is at its size limit         503

The gateway maps this tree to problem responses in one table (`pyoco_server.gateway.problems`).
"""

from __future__ import annotations


class PyocoError(Exception):
    """Root of every error pyoco-server raises on purpose."""


class SettingsError(PyocoError):
    """An environment variable holds a value its setting does not accept."""

    def __init__(self, variable: str, value: str, expected: str) -> None:
        self.variable = variable
        self.value = value
        self.expected = expected
        super().__init__(f"{variable}={value!r} is invalid: {expected}")


class ContractError(PyocoError):
    """A payload does not match its schema in asyncapi.yaml."""

    def __init__(self, message_name: str, detail: str) -> None:
        self.message_name = message_name
        self.detail = detail
        super().__init__(f"invalid {message_name}: {detail}")


class DecodeError(ContractError):
    """Inbound bytes could not be decoded into a valid message."""

    def __init__(self, message_name: str, detail: str, raw: bytes) -> None:
        self.raw = raw
        super().__init__(message_name, detail)


class RequestError(PyocoError):
    """A client request that cannot be accepted as sent; `detail` says how to fix it."""

    reason = "invalid_request"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class InvalidInput(RequestError):
    """A malformed field or body."""

    reason = "invalid_input"


class RunNotFound(RequestError):
    """No run has this id (or it belongs to another tenant)."""

    reason = "run_not_found"

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(f"run {run_id!r} not found; check the id returned by the submit call")


class WorkerNotFound(RequestError):
    """No worker record has this id."""

    reason = "worker_not_found"

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        super().__init__(f"worker {worker_id!r} not found; GET /workers?scope=all lists them")


class DeadLetterNotFound(RequestError):
    """No dead letter has this id."""

    reason = "dead_letter_not_found"

    def __init__(self, dead_letter_id: str) -> None:
        self.dead_letter_id = dead_letter_id
        super().__init__(f"dead letter {dead_letter_id!r} not found; GET /dlq lists them")


class NotRedrivable(RequestError):
    """A dead letter that cannot be queued again; `detail` says why."""

    reason = "not_redrivable"


class IdempotencyConflict(RequestError):
    """An Idempotency-Key already used for a different request."""

    reason = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was already used for a different request; use a new key for "
            "a new request (keys are kept for PYOCO_IDEMPOTENCY_WINDOW_SEC)"
        )


class IdempotencyInProgress(RequestError):
    """A repeat of an Idempotency-Key whose first submit has not finished yet."""

    reason = "idempotency_key_in_progress"

    def __init__(self) -> None:
        super().__init__(
            "a request with this Idempotency-Key is still being submitted; retry in a moment to "
            "get its run"
        )


class WorkflowNotStored(RequestError):
    """A re-run of a flow.yaml run whose file is no longer kept in the workflows bucket."""

    reason = "workflow_not_stored"

    def __init__(self, run_id: str, sha256: str) -> None:
        self.run_id = run_id
        self.sha256 = sha256
        super().__init__(
            f"run {run_id!r} was submitted with a flow.yaml (sha256 {sha256[:12]}…) that is no "
            "longer stored (files are kept PYOCO_RUN_RETENTION_SEC after their last use); "
            "submit the file again with POST /runs/yaml"
        )


class ForbiddenTenant(RequestError):
    """A user key asked for the runs of a tenant other than its own."""

    reason = "forbidden_tenant"

    def __init__(self, tenant_id: str, own: str) -> None:
        self.tenant_id = tenant_id
        self.own = own
        super().__init__(
            f"this API key belongs to tenant {own!r} and may not read tenant {tenant_id!r}'s "
            f"runs; leave out `tenant`, or use an admin key"
        )


class PayloadTooLarge(RequestError):
    """An upload, or the job built from a request, is larger than its limit."""

    reason = "payload_too_large"

    def __init__(self, what: str, size: int | None, limit: int, setting: str | None = None) -> None:
        self.size = size
        self.limit = limit
        hint = f" (raise {setting} to allow more)" if setting else ""
        measured = f"{size} bytes, " if size is not None else ""
        super().__init__(f"{what} is {measured}over the limit of {limit} bytes{hint}")


class TooManyRequests(RequestError):
    """A limit on the caller was reached (`reason` says which); retry after `retry_after` s."""

    def __init__(self, reason: str, detail: str, retry_after: int) -> None:
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(detail)


class InvalidWorkflow(RequestError):
    """A flow.yaml that does not parse or does not follow the format; `reason` is a code.

    The reasons (docs/flow-yaml.md says what to do about each): `not_utf8`, `invalid_yaml`,
    `invalid_yaml_root`, `too_complex`, `unsupported_key`, `unknown_keys`,
    `unsupported_version`, `missing_flow_graph`, `invalid_defaults`, `invalid_task`,
    `missing_callable` (a task with neither `callable` nor `use`), `invalid_task_callable`,
    `undeclared_task` (the graph names a task not under `tasks:`), `unknown_params` (params the
    flow does not know, `workflow.check_params`), `invalid_pipes`, `invalid_runtime`,
    `invalid_graph`.
    """

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.problem = detail
        super().__init__(f"invalid workflow yaml ({reason}): {detail}")

    def __reduce__(self) -> tuple[type[InvalidWorkflow], tuple[str, str]]:
        """Pickle by the constructor's arguments (the gateway parses in child processes)."""
        return type(self), (self.reason, self.problem)


class CallableNotAllowed(RequestError):
    """A task callable that the rules of `domain.trust` do not allow."""

    reason = "callable_not_allowed"


class InvalidWheel(RequestError):
    """An upload that is not a valid wheel, or not the one its name says; `reason` is a code."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        super().__init__(detail)


class InvalidLabels(RequestError):
    """A multipart form's `tags` (labels, comma-separated) that break the label rules."""

    reason = "invalid_tags"


class WheelNotFound(RequestError):
    """No stored wheel has this name."""

    reason = "wheel_not_found"

    def __init__(self, wheel_name: str) -> None:
        self.wheel_name = wheel_name
        super().__init__(f"wheel {wheel_name!r} not found; GET /wheels lists them")


class WheelConflict(RequestError):
    """An upload the registry's versions refuse; `reason` is a code."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        super().__init__(detail)


class InvalidRequirement(RequestError):
    """A `requires` entry that is not a pin of one version (`my_ext==0.1.0`)."""

    reason = "invalid_requirement"


class UnknownRequirement(RequestError):
    """A pinned wheel version (`requires`) that the registry does not have for the run's tag."""

    reason = "unknown_requirement"


class FlowNotFound(PyocoError):
    """The worker cannot build a flow for the job."""

    def __init__(self, flow_name: str, detail: str) -> None:
        self.flow_name = flow_name
        self.detail = detail
        super().__init__(f"flow {flow_name!r} not found: {detail}")


class RunAbandoned(PyocoError):
    """A run was stopped because its worker is shutting down; the job goes back to the queue."""


class BackupError(PyocoError):
    """A backup cannot be written into a directory, or a directory read back as a backup."""


class RestoreTargetInUse(BackupError):
    """The target of a restore already holds runs (and the restore was not forced)."""

    def __init__(self, nats_url: str, bucket: str, messages: int) -> None:
        self.nats_url = nats_url
        self.bucket = bucket
        self.messages = messages
        super().__init__(
            f"NATS at {nats_url} already holds runs ({messages} messages in bucket {bucket}); "
            "restore into an empty deployment, or pass --force to write the backup over it"
        )


class RevisionConflict(PyocoError):
    """A compare-and-set write lost: the record changed since it was read."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"{key} changed concurrently")


class StaleAttempt(RevisionConflict):
    """This delivery attempt no longer owns the run: a newer attempt does, or the run ended.

    `ended` tells the two apart: an ended run's job can be acknowledged, while a job whose run
    belongs to a newer attempt must be left alone (its acknowledgement is the owner's).
    """

    def __init__(self, key: str, detail: str, *, ended: bool = False) -> None:
        self.detail = detail
        self.ended = ended
        super().__init__(key)
        self.args = (f"{key}: {detail}",)


class BackendUnavailable(PyocoError):
    """NATS JetStream cannot be reached or did not answer in time."""

    reason = "backend_unavailable"

    def __init__(self, detail: str, retry_after: int = 2, *, uncertain: bool = False) -> None:
        self.detail = detail
        self.retry_after = retry_after
        self.uncertain = uncertain
        """True when the request went out and no answer came: it may have been carried out."""
        super().__init__(detail)


class TooManyConflicts(BackendUnavailable):
    """A record kept changing under a compare-and-set: the change was given up; retry later."""


class SubmitOutcomeUnknown(BackendUnavailable):
    """NATS failed after a submit's job was (or may have been) queued, before its run was stored.

    The job could not be confirmed, or neither recorded nor withdrawn, so the run may still
    happen: the submit's Idempotency-Key is kept, and a retry with it answers with that run once
    it is stored, or submits it again under the same run id (which JetStream deduplicates).
    """

    reason = "submit_outcome_unknown"

    def __init__(self, run_id: str, cause: str) -> None:
        self.run_id = run_id
        super().__init__(
            f"run {run_id} may have been queued, but NATS failed before it was recorded "
            f"({cause}); it may still run: retry with the same Idempotency-Key to get it rather "
            "than a second run",
            uncertain=True,
        )


class GatewayBusy(BackendUnavailable):
    """The gateway process holds as many request bodies as it may; retry in a moment."""

    reason = "gateway_busy"

    def __init__(self, held: int, limit: int) -> None:
        super().__init__(
            f"this gateway process is receiving {held} bytes of request bodies, as much as it "
            f"may hold at once (PYOCO_HTTP_BODIES_MAX_BYTES, {limit}); retry in a moment",
            1,
        )


class QueueFull(BackendUnavailable):
    """A stream or bucket reached its size limit (`setting`); retry once it has drained."""

    reason = "queue_full"

    def __init__(self, what: str, setting: str, retry_after: int = 5) -> None:
        self.what = what
        self.setting = setting
        super().__init__(
            f"{what} is full; retry in a while (nothing was stored), or ask the operator to "
            f"raise {setting}",
            retry_after,
        )
