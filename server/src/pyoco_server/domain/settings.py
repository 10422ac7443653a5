"""Configuration: one frozen `Settings` object, built once at the edge from the environment.

Names and precedence follow the original pyoco-server: a non-empty process environment variable
wins over the same name in the dotenv file (`PYOCO_ENV_FILE`, default `.env`, loaded unless
`PYOCO_LOAD_DOTENV` is false), which wins over the default; an empty value counts as unset.
Unlike the original, an invalid value is an error that names the variable and what it accepts.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values

from pyoco_server.domain.envparse import (
    bucket,
    choice,
    env,
    env_names,
    history,
    memory_limit,
    nats_url,
    non_negative_float,
    parse_bool,
    parse_modules,
    pattern,
    positive_float,
    positive_int,
    prefix,
    rate,
    tag,
    tags,
)
from pyoco_server.domain.errors import SettingsError

MEMORY_INDEX = ":memory:"
"""`index_dir` meaning no file: the run index lives in the gateway process."""

AuthMode = Literal["none", "api_key"]
LogFormat = Literal["json", "text"]


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """Every tunable of pyoco-server. Build it with `Settings.from_env()`; pass it down."""

    nats_url: str = env("PYOCO_NATS_URL", nats_url, default="nats://127.0.0.1:4222")
    default_tag: str = env("PYOCO_DEFAULT_TAG", tag, default="default")
    work_stream: str = env("PYOCO_WORK_STREAM", bucket, default="PYOCO_WORK")
    work_subject_prefix: str = env("PYOCO_WORK_SUBJECT_PREFIX", prefix, default="pyoco.work")
    consumer_prefix: str = env("PYOCO_CONSUMER_PREFIX", bucket, default="pyoco_workers")
    runs_kv_bucket: str = env("PYOCO_RUNS_KV_BUCKET", bucket, default="pyoco_runs")
    workers_kv_bucket: str = env("PYOCO_WORKERS_KV_BUCKET", bucket, default="pyoco_workers")
    auth_kv_bucket: str = env("PYOCO_AUTH_KV_BUCKET", bucket, default="pyoco_auth")
    auth_pepper: str = env("PYOCO_AUTH_PEPPER", str, default="")
    default_tenant: str = env("PYOCO_DEFAULT_TENANT", bucket, default="default")
    index_dir: str = env("PYOCO_INDEX_DIR", str, default=MEMORY_INDEX)
    """Where gateways keep their run index cache (`:memory:`: in the process, rebuilt at every
    start). `from_env` defaults it to the user's cache directory."""
    idempotency_kv_bucket: str = env(
        "PYOCO_IDEMPOTENCY_KV_BUCKET", bucket, default="pyoco_idempotency"
    )
    idempotency_window_sec: float = env(
        "PYOCO_IDEMPOTENCY_WINDOW_SEC", positive_float, default=86400.0
    )
    workflows_kv_bucket: str = env("PYOCO_WORKFLOWS_KV_BUCKET", bucket, default="pyoco_workflows")
    workflows_max_bytes: int = env("PYOCO_WORKFLOWS_KV_MAX_BYTES", positive_int, default=2**30)
    run_retention_sec: float = env("PYOCO_RUN_RETENTION_SEC", positive_float, default=30 * 86400.0)
    runs_kv_history: int = env("PYOCO_RUNS_KV_HISTORY", history, default=8)
    dlq_stream: str = env("PYOCO_DLQ_STREAM", bucket, default="PYOCO_DLQ")
    dlq_subject_prefix: str = env("PYOCO_DLQ_SUBJECT_PREFIX", prefix, default="pyoco.dlq")
    dlq_max_age_sec: float = env("PYOCO_DLQ_MAX_AGE_SEC", positive_float, default=604800.0)
    dlq_max_msgs: int = env("PYOCO_DLQ_MAX_MSGS", positive_int, default=100_000)
    dlq_max_bytes: int = env("PYOCO_DLQ_MAX_BYTES", positive_int, default=512 * 1024 * 1024)
    dlq_publish_execution_error: bool = env(
        "PYOCO_DLQ_PUBLISH_EXECUTION_ERROR", parse_bool, default=True
    )
    js_replicas: int | None = env(
        "PYOCO_JS_REPLICAS", positive_int, default=None, aliases=("PYOCO_NATS_REPLICAS",)
    )
    """None (unset): resources are created with 1 replica and existing ones keep theirs, so a
    process started without the setting never scales a cluster's streams down."""
    nats_request_timeout_sec: float = env(
        "PYOCO_NATS_REQUEST_TIMEOUT_SEC", positive_float, default=5.0
    )
    consumer_ack_wait_sec: float = env("PYOCO_CONSUMER_ACK_WAIT_SEC", positive_float, default=30.0)
    consumer_max_deliver: int = env("PYOCO_CONSUMER_MAX_DELIVER", positive_int, default=20)
    consumer_max_ack_pending: int = env(
        "PYOCO_CONSUMER_MAX_ACK_PENDING", positive_int, default=1000
    )
    ack_progress_interval_sec: float = env(
        "PYOCO_ACK_PROGRESS_INTERVAL_SEC", positive_float, default=10.0
    )
    run_heartbeat_interval_sec: float = env(
        "PYOCO_RUN_HEARTBEAT_INTERVAL_SEC", positive_float, default=5.0
    )
    snapshot_flush_interval_sec: float = env(
        "PYOCO_SNAPSHOT_FLUSH_INTERVAL_SEC", positive_float, default=0.05
    )
    worker_heartbeat_interval_sec: float = env(
        "PYOCO_WORKER_HEARTBEAT_INTERVAL_SEC", positive_float, default=5.0
    )
    worker_record_retention_sec: float = env(
        "PYOCO_WORKER_RECORD_RETENTION_SEC", positive_float, default=86400.0
    )
    run_timeout_sec: float = env("PYOCO_RUN_TIMEOUT_SEC", non_negative_float, default=0.0)
    worker_disconnect_timeout_sec: float = env(
        "PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC", positive_float, default=20.0
    )
    cancel_grace_period_sec: float = env(
        "PYOCO_CANCEL_GRACE_PERIOD_SEC", positive_float, default=10.0
    )
    worker_reload: bool = env("PYOCO_WORKER_RELOAD", parse_bool, default=False)
    """Replace run processes whose task modules changed on disk (pyoco-worker --reload)."""
    max_run_snapshot_bytes: int = env("PYOCO_MAX_RUN_SNAPSHOT_BYTES", positive_int, default=262_144)
    workflow_yaml_max_bytes: int = env(
        "PYOCO_WORKFLOW_YAML_MAX_BYTES", positive_int, default=262_144
    )
    http_auth_mode: AuthMode = env(
        "PYOCO_HTTP_AUTH_MODE", choice("none", "api_key"), default="none"
    )
    http_api_key_header: str = env(
        "PYOCO_HTTP_API_KEY_HEADER",
        pattern(re.compile(r"^[A-Za-z0-9-]{1,64}$"), "an HTTP header name"),
        default="X-API-Key",
    )
    sse_heartbeat_sec: float = env("PYOCO_SSE_HEARTBEAT_SEC", positive_float, default=15.0)
    http_header_timeout_sec: float = env(
        "PYOCO_HTTP_HEADER_TIMEOUT_SEC", positive_float, default=30.0
    )
    http_body_min_bytes_per_sec: int = env(
        "PYOCO_HTTP_BODY_MIN_BYTES_PER_SEC", positive_int, default=1024
    )
    http_bodies_max_bytes: int = env("PYOCO_HTTP_BODIES_MAX_BYTES", positive_int, default=2**26)
    """Request bodies a gateway process receives at once, in bytes (gateway/limits.py)."""
    http_validate_responses: bool = env("PYOCO_HTTP_VALIDATE_RESPONSES", parse_bool, default=False)
    worker_shutdown_grace_sec: float = env(
        "PYOCO_WORKER_SHUTDOWN_GRACE_SEC", positive_float, default=30.0
    )
    reaper_interval_sec: float = env("PYOCO_REAPER_INTERVAL_SEC", positive_float, default=30.0)
    """How often each gateway looks for runs whose job is gone (services/reaper.py)."""
    dashboard_lang: str = env("PYOCO_DASHBOARD_LANG", choice("auto", "ja", "en"), default="auto")
    task_modules: tuple[str, ...] = env("PYOCO_TASK_MODULES", parse_modules, default=())
    task_allow_all: bool = env("PYOCO_TASK_ALLOW_ALL", parse_bool, default=False)
    task_env: tuple[str, ...] = env("PYOCO_TASK_ENV", env_names, default=())
    run_as_user: str = env("PYOCO_RUN_AS_USER", str, default="")
    wheel_store_bucket: str = env("PYOCO_WHEEL_OBJECT_STORE_BUCKET", bucket, default="pyoco_wheels")
    wheel_index_kv_bucket: str = env(
        "PYOCO_WHEEL_INDEX_KV_BUCKET", bucket, default="pyoco_wheel_index"
    )
    wheel_history_stream: str = env(
        "PYOCO_WHEEL_HISTORY_STREAM", bucket, default="PYOCO_WHEEL_HISTORY"
    )
    wheel_history_ttl_sec: float = env(
        "PYOCO_WHEEL_HISTORY_TTL_SEC", positive_float, default=90 * 86400.0
    )
    wheel_max_bytes: int = env("PYOCO_WHEEL_MAX_BYTES", positive_int, default=64 * 1024 * 1024)
    wheel_store_max_bytes: int = env(
        "PYOCO_WHEEL_STORE_MAX_BYTES", positive_int, default=4 * 1024 * 1024 * 1024
    )
    wheel_sync_enabled: bool = env("PYOCO_WHEEL_SYNC_ENABLED", parse_bool, default=False)
    wheel_sync_dir: str = env("PYOCO_WHEEL_SYNC_DIR", str, default=".pyoco/wheels")
    wheel_sync_interval_sec: float = env(
        "PYOCO_WHEEL_SYNC_INTERVAL_SEC", positive_float, default=60.0
    )
    """How often a syncing worker checks its wheels again although the index did not change (it
    follows the index for changes; this retries installs that failed)."""
    wheel_install_timeout_sec: float = env(
        "PYOCO_WHEEL_INSTALL_TIMEOUT_SEC", positive_float, default=180.0
    )
    wheel_cache_max_bytes: int = env(
        "PYOCO_WHEEL_CACHE_MAX_BYTES", positive_int, default=2 * 1024 * 1024 * 1024
    )
    # Gateway limits (hardening)
    work_max_bytes: int = env("PYOCO_WORK_MAX_BYTES", positive_int, default=1024**3)
    work_max_age_sec: float = env("PYOCO_WORK_MAX_AGE_SEC", positive_float, default=2592000.0)
    runs_kv_max_bytes: int = env("PYOCO_RUNS_KV_MAX_BYTES", positive_int, default=4 * 1024**3)
    workflow_parse_concurrency: int = env(
        "PYOCO_WORKFLOW_PARSE_CONCURRENCY", positive_int, default=2
    )
    submit_rate_per_sec: float = env("PYOCO_SUBMIT_RATE_PER_SEC", rate, default=0.0)
    submit_burst: int = env("PYOCO_SUBMIT_BURST", positive_int, default=500)
    watch_max_streams: int = env("PYOCO_WATCH_MAX_STREAMS", positive_int, default=1000)
    watch_max_streams_per_key: int = env(
        "PYOCO_WATCH_MAX_STREAMS_PER_KEY", positive_int, default=100
    )
    run_memory_max_bytes: int = env("PYOCO_RUN_MEMORY_MAX_BYTES", memory_limit, default=0)
    """The data memory each run process may map (RLIMIT_DATA; 0: no limit)."""
    run_log_max_bytes: int = env("PYOCO_RUN_LOG_MAX_BYTES", positive_int, default=1024**2)
    """Bytes of task output (the lines' text) a run keeps in its log; the rest is dropped."""
    run_logs_max_age_sec: float = env("PYOCO_RUN_LOGS_MAX_AGE_SEC", non_negative_float, default=0.0)
    """How long task logs are kept (0: as long as runs, PYOCO_RUN_RETENTION_SEC)."""
    run_logs_max_bytes: int = env("PYOCO_RUN_LOGS_MAX_BYTES", positive_int, default=4 * 1024**3)
    """The most the logs stream holds; beyond it the oldest records go."""
    metrics_tags: tuple[str, ...] = env("PYOCO_METRICS_TAGS", tags, default=())
    """Tags shown by name in metric labels (empty: the default tag and the workers' tags)."""
    nats_user: str = env("PYOCO_NATS_USER", str, default="")
    nats_password: str = env("PYOCO_NATS_PASSWORD", str, default="")
    nats_token: str = env("PYOCO_NATS_TOKEN", str, default="")
    nats_creds: str = env("PYOCO_NATS_CREDS", str, default="")
    nats_auth_dir: str = env("PYOCO_NATS_AUTH_DIR", str, default="")
    nats_manage_resources: bool = env("PYOCO_NATS_MANAGE_RESOURCES", parse_bool, default=True)
    log_level: str = env(
        "PYOCO_LOG_LEVEL",
        choice("debug", "info", "warning", "error", "critical"),
        default="info",
    )
    log_format: LogFormat = env("PYOCO_LOG_FORMAT", choice("json", "text"), default="text")

    @property
    def consumer_deliveries(self) -> int:
        """How many times the work consumers deliver a job: the limit, plus one more.

        On that last delivery a worker does not run the job: it ends the run FAILED
        `max_deliveries_exceeded` and dead-letters the job. A redelivery always reaches a
        worker, where JetStream's advisory for a job out of deliveries is sent once and may be
        lost; the advisory remains the backstop for a job whose extra delivery failed too.
        """
        return self.consumer_max_deliver + 1

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `environ` (default `os.environ`) and the dotenv file.

        Raises:
            SettingsError: a variable holds a value the field does not accept.
        """
        env = dict(os.environ if environ is None else environ)
        values = _merged_values(env)
        kwargs: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            found = _value_of(values, field.metadata["env"], field.metadata["aliases"])
            if found is None:
                continue
            name, raw = found
            try:
                kwargs[field.name] = field.metadata["parse"](raw.strip())
            except ValueError as exc:
                raise SettingsError(name, raw, str(exc)) from None
        kwargs.setdefault("index_dir", _user_cache(env))
        return cls(**kwargs)

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with `changes` applied (for CLI flags that override the environment)."""
        return dataclasses.replace(self, **changes)

    def to_env(self) -> dict[str, str]:
        """Render these settings as environment variables, for child processes."""
        env = {"PYOCO_LOAD_DOTENV": "0"}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            env[field.metadata["env"]] = _render(value)
        return env


def is_configured(variable: str, environ: Mapping[str, str] | None = None) -> bool:
    """True when `variable` has a non-empty value in the environment or the dotenv file."""
    env = dict(os.environ if environ is None else environ)
    return _merged_values(env).get(variable, "").strip() != ""


def _value_of(
    values: Mapping[str, str], name: str, aliases: tuple[str, ...]
) -> tuple[str, str] | None:
    """`(variable, value)` of the first of `name` and its `aliases` that is set.

    Raises:
        SettingsError: an alias is set to another value than `name` (which one was meant?).
    """
    found = [(each, values[each]) for each in (name, *aliases) if values.get(each, "").strip()]
    if not found:
        return None
    first, raw = found[0]
    for alias, other in found[1:]:
        if other.strip() != raw.strip():
            raise SettingsError(
                alias,
                other,
                f"{first} is set to {raw.strip()!r}: set one of the two (the "
                f"older name {alias} is read only when {first} is unset)",
            )
    return found[0]


def _user_cache(env: Mapping[str, str]) -> str:
    """The run index cache under the user's cache directory (XDG), if the environment has one."""
    if env.get("XDG_CACHE_HOME", "").strip():
        return str(Path(env["XDG_CACHE_HOME"]) / "pyoco-server" / "index")
    if env.get("HOME", "").strip():
        return str(Path(env["HOME"]) / ".cache" / "pyoco-server" / "index")
    return MEMORY_INDEX


def _render(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def _merged_values(env: Mapping[str, str]) -> dict[str, str]:
    """Merge the dotenv file under the process environment (non-empty process values win)."""
    load = env.get("PYOCO_LOAD_DOTENV", "").strip()
    if load and not _parse_load_flag(load):
        return dict(env)
    path = Path(env.get("PYOCO_ENV_FILE", "").strip() or ".env").expanduser()
    merged = {k: v for k, v in _read_dotenv(path).items() if v is not None}
    merged.update({k: v for k, v in env.items() if v.strip() != ""})
    return merged


def _parse_load_flag(raw: str) -> bool:
    try:
        return parse_bool(raw)
    except ValueError:
        raise SettingsError(
            "PYOCO_LOAD_DOTENV", raw, "expected one of 1/true/yes/on or 0/false/no/off"
        ) from None


def _read_dotenv(path: Path) -> dict[str, str | None]:
    if not path.is_file():
        return {}
    try:
        return dict(dotenv_values(path, interpolate=False))
    except (OSError, UnicodeDecodeError):
        return {}
