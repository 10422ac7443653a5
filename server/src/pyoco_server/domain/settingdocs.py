"""What each setting is for, which programs read it, and the option that sets it instead.

The companion of `settings.Settings`, declared per environment variable and grouped by topic:
docs/config.md is generated from both (`uv run nox -s generate`), and a test fails when a field
of `Settings` has no entry here or config.md is stale. `OTHER_VARIABLES` lists the `PYOCO_*`
variables read outside `Settings` (the client's, the dotenv switches).

Readers are the programs that use the value: `gateway` (the HTTP gateway), `worker`
(`pyoco-worker`), `admin` (`pyoco-server-admin`), `up` (`pyoco-server up` itself; it also hands
every setting it read on to the gateway and worker it starts) and `client` (`pyoco-client`).
"""

from __future__ import annotations

import dataclasses

GATEWAY, WORKER, ADMIN, UP, CLIENT = "gateway", "worker", "admin", "up", "client"
ALL = (GATEWAY, WORKER, ADMIN, UP)
"""Every program that connects to NATS (each creates or checks the streams and buckets)."""
RUNNING = (GATEWAY, WORKER)


@dataclasses.dataclass(frozen=True, slots=True)
class SettingDoc:
    """One variable: who reads it, what it does, and the command-line options that set it."""

    readers: tuple[str, ...]
    text: str
    flags: tuple[str, ...] = ()
    accepts: str = "text"
    """What it accepts, for a variable outside `Settings` (a field's parser says it)."""
    default: str = ""
    """Its default, for a variable outside `Settings`."""


_NATS = {
    "PYOCO_NATS_URL": SettingDoc(
        ALL,
        "NATS to connect to; several comma-separated URLs for a cluster. Set for `up`, it uses "
        "this NATS instead of starting an embedded one.",
        ("pyoco-server up --nats-url", "pyoco-worker --nats-url", "pyoco-server-admin --nats-url"),
    ),
    "PYOCO_NATS_USER": SettingDoc(ALL, "NATS user name (with `PYOCO_NATS_PASSWORD`)."),
    "PYOCO_NATS_PASSWORD": SettingDoc(ALL, "Password of `PYOCO_NATS_USER`."),
    "PYOCO_NATS_TOKEN": SettingDoc(ALL, "NATS authentication token."),
    "PYOCO_NATS_CREDS": SettingDoc(
        ALL, "A NATS `.creds` file; wins over a token, which wins over a user and password."
    ),
    "PYOCO_NATS_AUTH_DIR": SettingDoc(
        ALL,
        "Where the users `up` generated for its embedded NATS are found when no other "
        "credentials are set (empty: `.pyoco/nats/auth`).",
    ),
    "PYOCO_NATS_MANAGE_RESOURCES": SettingDoc(
        ALL,
        "Create the streams and buckets and bring them in line with these settings on connect; "
        "0 only checks that they exist (for NATS users that may not create them: run "
        "`pyoco-server-admin setup` once).",
    ),
    "PYOCO_NATS_REQUEST_TIMEOUT_SEC": SettingDoc(ALL, "Time limit of one JetStream request."),
    "PYOCO_JS_REPLICAS": SettingDoc(
        ALL,
        "Replicas of every stream, bucket and object store (3 on a three-node cluster; at most "
        "the cluster's JetStream servers). Set, it is applied to existing resources by every "
        "program that may manage them (`pyoco-server-admin setup`); unset, new resources get 1 "
        "and existing ones keep theirs.",
    ),
}

_NAMES = {
    "PYOCO_WORK_STREAM": SettingDoc(ALL, "The stream holding the jobs (the work queue)."),
    "PYOCO_WORK_SUBJECT_PREFIX": SettingDoc(
        ALL, "Subject prefix of the jobs; a job of tag T is published on `<prefix>.T`."
    ),
    "PYOCO_CONSUMER_PREFIX": SettingDoc(
        ALL, "Prefix of the durable consumers, one per tag (`<prefix>_<tag>`), shared by workers."
    ),
    "PYOCO_RUNS_KV_BUCKET": SettingDoc(ALL, "The bucket holding run snapshots."),
    "PYOCO_WORKERS_KV_BUCKET": SettingDoc(ALL, "The bucket holding the worker registry."),
    "PYOCO_AUTH_KV_BUCKET": SettingDoc(ALL, "The bucket holding API keys (as keyed hashes)."),
    "PYOCO_IDEMPOTENCY_KV_BUCKET": SettingDoc(ALL, "The bucket remembering `Idempotency-Key`s."),
    "PYOCO_WORKFLOWS_KV_BUCKET": SettingDoc(
        ALL, "The bucket keeping submitted flow.yaml files (for re-runs)."
    ),
    "PYOCO_DLQ_STREAM": SettingDoc(ALL, "The dead-letter stream."),
    "PYOCO_DLQ_SUBJECT_PREFIX": SettingDoc(ALL, "Subject prefix of dead letters (`<prefix>.T`)."),
    "PYOCO_WHEEL_OBJECT_STORE_BUCKET": SettingDoc(ALL, "The object store holding wheel files."),
    "PYOCO_WHEEL_INDEX_KV_BUCKET": SettingDoc(ALL, "The bucket indexing the registry's wheels."),
    "PYOCO_WHEEL_HISTORY_STREAM": SettingDoc(ALL, "The stream recording uploads and deletions."),
}

_LIMITS = {
    "PYOCO_WORK_MAX_BYTES": SettingDoc(
        ALL, "Size of the work stream; a submit that does not fit is 503 `queue_full`."
    ),
    "PYOCO_WORK_MAX_AGE_SEC": SettingDoc(
        ALL,
        "Longest a job waits for a worker (keep it at least `PYOCO_RUN_RETENTION_SEC`).",
    ),
    "PYOCO_RUN_RETENTION_SEC": SettingDoc(
        ALL, "A run (and its kept flow.yaml) is removed this long after its last change."
    ),
    "PYOCO_RUNS_KV_HISTORY": SettingDoc(ALL, "Revisions of each run the runs bucket keeps."),
    "PYOCO_RUNS_KV_MAX_BYTES": SettingDoc(
        ALL, "Size of the runs bucket, history included: a last resort, keep it far above use."
    ),
    "PYOCO_WORKFLOWS_KV_MAX_BYTES": SettingDoc(ALL, "Size of the flow.yaml bucket."),
    "PYOCO_IDEMPOTENCY_WINDOW_SEC": SettingDoc(ALL, "How long an `Idempotency-Key` is remembered."),
    "PYOCO_WORKER_RECORD_RETENTION_SEC": SettingDoc(
        ALL, "How long a worker's record outlives its last write."
    ),
    "PYOCO_DLQ_MAX_AGE_SEC": SettingDoc(ALL, "How long a dead letter is kept."),
    "PYOCO_DLQ_MAX_MSGS": SettingDoc(ALL, "Most dead letters kept; the oldest go beyond it."),
    "PYOCO_DLQ_MAX_BYTES": SettingDoc(ALL, "Size of the dead-letter stream."),
    "PYOCO_RUN_LOGS_MAX_AGE_SEC": SettingDoc(
        ALL, "How long task logs are kept (0: as long as runs, `PYOCO_RUN_RETENTION_SEC`)."
    ),
    "PYOCO_RUN_LOGS_MAX_BYTES": SettingDoc(
        ALL, "Size of the `PYOCO_LOGS` stream; the oldest records go beyond it."
    ),
    "PYOCO_WHEEL_HISTORY_TTL_SEC": SettingDoc(ALL, "How long wheel history entries are kept."),
    "PYOCO_WHEEL_STORE_MAX_BYTES": SettingDoc(ALL, "Size of the wheel object store."),
}

_DELIVERY = {
    "PYOCO_DEFAULT_TAG": SettingDoc(
        (GATEWAY, WORKER, UP),
        "Tag of runs submitted without one, and the tag a worker serves without `--tags`.",
    ),
    "PYOCO_CONSUMER_ACK_WAIT_SEC": SettingDoc(
        RUNNING,
        "A job whose worker went silent this long is delivered again (to any worker of its tag).",
    ),
    "PYOCO_CONSUMER_MAX_DELIVER": SettingDoc(
        RUNNING,
        "Deliveries of a job before its run ends FAILED `max_deliveries_exceeded` (one more "
        "delivery ends it and dead-letters the job).",
    ),
    "PYOCO_CONSUMER_MAX_ACK_PENDING": SettingDoc(
        (WORKER,), "Jobs of one tag that may be out with workers at once (all workers together)."
    ),
    "PYOCO_ACK_PROGRESS_INTERVAL_SEC": SettingDoc(
        (WORKER,),
        "How often a worker tells JetStream a job is still in progress (at most a quarter of "
        "`PYOCO_CONSUMER_ACK_WAIT_SEC`).",
    ),
    "PYOCO_RUN_HEARTBEAT_INTERVAL_SEC": SettingDoc(
        RUNNING,
        "How often a worker writes the heartbeat of each run it runs; a run whose heartbeat is "
        "older than the ack wait plus three of these counts as stale.",
    ),
    "PYOCO_REAPER_INTERVAL_SEC": SettingDoc(
        (GATEWAY,),
        "How often a gateway ends runs whose job is gone (FAILED `lost`) and removes the "
        "files of deleted wheel versions no queued or running run is bound to any more.",
    ),
    "PYOCO_RUN_TIMEOUT_SEC": SettingDoc(
        (GATEWAY,), "Default `timeout_sec` of a run submitted without one (0: none)."
    ),
    "PYOCO_DLQ_PUBLISH_EXECUTION_ERROR": SettingDoc(
        (WORKER,),
        "Record runs that failed in their own code (`execution_error`) as dead letters too; "
        "the other failure reasons are always recorded.",
    ),
    "PYOCO_MAX_RUN_SNAPSHOT_BYTES": SettingDoc(
        RUNNING, "Task records are dropped from snapshots larger than this."
    ),
}

_WORKERS = {
    "PYOCO_WORKER_HEARTBEAT_INTERVAL_SEC": SettingDoc(
        (WORKER,), "How often a worker writes its record in the registry."
    ),
    "PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC": SettingDoc(
        RUNNING, "A worker silent this long shows DISCONNECTED."
    ),
    "PYOCO_WORKER_SHUTDOWN_GRACE_SEC": SettingDoc(
        (WORKER, UP), "Time runs in flight get to finish after SIGTERM or Ctrl-C."
    ),
    "PYOCO_CANCEL_GRACE_PERIOD_SEC": SettingDoc(
        (WORKER,),
        "Time a cancelled or timed-out run gets before its process is stopped (killed a "
        "second later).",
    ),
    "PYOCO_SNAPSHOT_FLUSH_INTERVAL_SEC": SettingDoc(
        (WORKER,), "How often a running run's task changes are written to its snapshot."
    ),
    "PYOCO_WORKER_RELOAD": SettingDoc(
        (WORKER, UP),
        "Replace run processes whose task modules changed on disk before their next run "
        "(on for the worker of `up`).",
        ("pyoco-worker --reload/--no-reload", "pyoco-server up --worker-reload/--no-worker-reload"),
    ),
    "PYOCO_RUN_MEMORY_MAX_BYTES": SettingDoc(
        (WORKER,),
        "The data memory each run process may map (`RLIMIT_DATA`, inherited by the processes "
        "its tasks start): past it an allocation fails, so a run that needs more fails with "
        "`MemoryError` instead of taking the machine's memory from the worker and other runs.",
    ),
    "PYOCO_RUN_LOG_MAX_BYTES": SettingDoc(
        (WORKER,),
        "What a run's tasks may print and log, across its attempts (the rest is dropped, with "
        "one `system` line saying so).",
    ),
}

_CODE = {
    "PYOCO_TASK_MODULES": SettingDoc(
        (GATEWAY, WORKER, UP),
        "Comma-separated modules whose callables flow.yaml tasks may use, besides registry "
        "wheels and the demo tasks (the standard library and pyoco-server's packages never).",
        ("pyoco-worker --task-modules", "pyoco-server up --task-modules"),
    ),
    "PYOCO_TASK_ALLOW_ALL": SettingDoc(
        RUNNING, "Allow any installed module (still never the standard library or pyoco-server)."
    ),
    "PYOCO_TASK_ENV": SettingDoc(
        (WORKER,),
        "Comma-separated environment variables a run may see when its flow.yaml lists them in "
        "`runtime.expose_env` (`PYOCO_*` never).",
    ),
    "PYOCO_RUN_AS_USER": SettingDoc(
        (WORKER,), "A worker running as root switches its run processes to this user."
    ),
    "PYOCO_WHEEL_SYNC_ENABLED": SettingDoc(
        (WORKER,),
        "Install the registry's wheels for the worker's tags and those its runs are bound to "
        "(on for the worker of `up`).",
        ("pyoco-worker --wheel-sync/--no-wheel-sync", "pyoco-server up --worker-wheel-sync"),
    ),
    "PYOCO_WHEEL_SYNC_DIR": SettingDoc(
        (WORKER,), "Where wheels are installed.", ("pyoco-worker --wheel-sync-dir",)
    ),
    "PYOCO_WHEEL_SYNC_INTERVAL_SEC": SettingDoc(
        (WORKER,),
        "How often wheels are checked again although the index did not change (retries failed "
        "installs; changes are followed as they happen).",
        ("pyoco-worker --wheel-sync-interval-sec",),
    ),
    "PYOCO_WHEEL_INSTALL_TIMEOUT_SEC": SettingDoc(
        (WORKER,),
        "Give up installing one wheel after this long.",
        ("pyoco-worker --wheel-install-timeout-sec",),
    ),
    "PYOCO_WHEEL_CACHE_MAX_BYTES": SettingDoc(
        (WORKER,), "Size of a worker's installed wheels beyond which unused versions are removed."
    ),
    "PYOCO_WHEEL_MAX_BYTES": SettingDoc((GATEWAY,), "Largest wheel upload accepted (413 above)."),
}

_GATEWAY = {
    "PYOCO_HTTP_AUTH_MODE": SettingDoc(
        (GATEWAY, UP), "`api_key` requires an API key on every operation but `/health`."
    ),
    "PYOCO_HTTP_API_KEY_HEADER": SettingDoc((GATEWAY,), "The header carrying the API key."),
    "PYOCO_AUTH_PEPPER": SettingDoc(
        (GATEWAY, ADMIN),
        "Secret mixed into stored key hashes; the same on every gateway and admin host.",
    ),
    "PYOCO_INDEX_DIR": SettingDoc(
        (GATEWAY, UP),
        "Where each gateway process keeps its run index, a SQLite cache of the runs bucket that "
        "a restarted gateway resumes from (one file per NATS, bucket and process slot; safe to "
        "delete). Unset: `$XDG_CACHE_HOME/pyoco-server/index`, else "
        "`~/.cache/pyoco-server/index`; `:memory:` keeps it in the process, read again from the "
        "bucket at every start.",
    ),
    "PYOCO_DEFAULT_TENANT": SettingDoc(
        (GATEWAY,),
        "Tenant of runs submitted while API keys are off (and of runs stored without one).",
    ),
    "PYOCO_WORKFLOW_YAML_MAX_BYTES": SettingDoc(
        (GATEWAY,), "Largest flow.yaml accepted (413 above)."
    ),
    "PYOCO_WORKFLOW_PARSE_CONCURRENCY": SettingDoc(
        (GATEWAY,), "flow.yaml files a gateway process parses at once (in child processes)."
    ),
    "PYOCO_SUBMIT_RATE_PER_SEC": SettingDoc(
        (GATEWAY,),
        "Submits per second a tenant may make, per gateway process (429 beyond; 0: no limit). "
        "A key created with `--submit-rate-per-sec` has its own.",
    ),
    "PYOCO_SUBMIT_BURST": SettingDoc(
        (GATEWAY,), "Submits a tenant may make at once before the rate applies."
    ),
    "PYOCO_WATCH_MAX_STREAMS": SettingDoc(
        (GATEWAY,), "Open watch streams per gateway process (429 beyond)."
    ),
    "PYOCO_WATCH_MAX_STREAMS_PER_KEY": SettingDoc(
        (GATEWAY,), "Open watch streams per API key and gateway process."
    ),
    "PYOCO_SSE_HEARTBEAT_SEC": SettingDoc((GATEWAY,), "Heartbeat interval of event streams."),
    "PYOCO_HTTP_HEADER_TIMEOUT_SEC": SettingDoc(
        (GATEWAY,),
        "A connection that sends no request within this long of opening, or whose request's "
        "headers take longer, is closed, so that idle or slow clients cannot hold the "
        "gateway's connections (an idle connection after a response: uvicorn's 5 s). It is "
        "also the time a request's body gets before it must keep pace with "
        "`PYOCO_HTTP_BODY_MIN_BYTES_PER_SEC`.",
    ),
    "PYOCO_HTTP_BODY_MIN_BYTES_PER_SEC": SettingDoc(
        (GATEWAY,),
        "The slowest a request's body may come, on average, once "
        "`PYOCO_HTTP_HEADER_TIMEOUT_SEC` have passed since it began: a slower one is answered "
        "408 `body_too_slow` and its connection closed, so that bodies sent a byte at a time, "
        "or never finished, cannot hold the gateway's connections.",
    ),
    "PYOCO_HTTP_BODIES_MAX_BYTES": SettingDoc(
        (GATEWAY,),
        "The request bodies a gateway process holds at once, by their declared sizes (a "
        "wheel's counted up to 1 MiB, since larger ones go to a file): a request whose body "
        "does not fit is answered 503 `gateway_busy` before its body is read, so that many "
        "slow or stalled uploads cannot take the gateway's memory.",
    ),
    "PYOCO_HTTP_VALIDATE_RESPONSES": SettingDoc(
        (GATEWAY,), "Validate every response against openapi.yaml (for tests and fuzzing)."
    ),
    "PYOCO_DASHBOARD_LANG": SettingDoc(
        (GATEWAY, UP),
        "Language of the dashboard (`auto` follows the browser).",
        ("pyoco-server up --dashboard-lang",),
    ),
    "PYOCO_METRICS_TAGS": SettingDoc(
        (GATEWAY,),
        "Tags shown by name in metric labels (empty: the default tag and the workers' tags); "
        "others count as `other`.",
    ),
}

_LOGS = {
    "PYOCO_LOG_LEVEL": SettingDoc(
        (GATEWAY, WORKER, UP),
        "Level of the programs' own logs (`debug` also echoes task output on the worker).",
    ),
    "PYOCO_LOG_FORMAT": SettingDoc(
        (GATEWAY, WORKER, UP), "`json` writes one JSON object per line."
    ),
}

SECTIONS: tuple[tuple[str, dict[str, SettingDoc]], ...] = (
    ("Connecting to NATS", _NATS),
    ("Runs, delivery and dead letters", _DELIVERY),
    ("Workers", _WORKERS),
    ("Task code and wheels", _CODE),
    ("The HTTP gateway", _GATEWAY),
    ("Logging", _LOGS),
    ("Sizes and retention of streams and buckets", _LIMITS),
    ("Names of streams, buckets and subjects", _NAMES),
)
"""Every `Settings` variable, once, grouped by topic in the order config.md shows them."""

OTHER_VARIABLES: dict[str, SettingDoc] = {
    "PYOCO_ENV_FILE": SettingDoc(ALL, "The dotenv file read for settings.", default="`.env`"),
    "PYOCO_LOAD_DOTENV": SettingDoc(ALL, "0 reads no dotenv file.", accepts="flag", default="`1`"),
    "PYOCO_SERVER_URL": SettingDoc(
        (CLIENT,),
        "The gateway `pyoco-client` talks to.",
        ("pyoco-client --server",),
        default="`http://127.0.0.1:8000`",
    ),
    "PYOCO_API_KEY": SettingDoc(
        (CLIENT,), "The API key `pyoco-client` sends.", ("pyoco-client --api-key",)
    ),
    "_PYOCO_CLIENT_COMPLETE": SettingDoc(
        (CLIENT,),
        'Shell completion: `eval "$(_PYOCO_CLIENT_COMPLETE=bash_source pyoco-client)"` '
        "(or `zsh_source`, `fish_source`).",
        accepts="`bash_source`, `zsh_source` or `fish_source`",
    ),
    "PYOCO_FORKSERVER_OF": SettingDoc(
        (WORKER,), "Internal: set by a worker for the fork server it starts. Do not set it."
    ),
    "PYOCO_FORKSERVER_RESOLVER": SettingDoc(
        (WORKER,), "Internal: the `--flow-resolver` a worker passes to its fork server."
    ),
    "PYOCO_DISCOVERY_MODULES": SettingDoc(
        (),
        "Read by pyoco's own task loader, not by pyoco-server, and without effect here: run "
        "processes get a scrubbed environment without `PYOCO_*` variables. List task modules "
        "in `PYOCO_TASK_MODULES` instead.",
    ),
}
"""`PYOCO_*` variables read outside `Settings`."""
