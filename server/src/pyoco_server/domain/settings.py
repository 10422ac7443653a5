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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values

from pyoco_server.domain import names
from pyoco_server.domain.errors import SettingsError
from pyoco_server.domain.trust import check_operator_modules

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SUBJECT_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_MODULE_PATTERN = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

AuthMode = Literal["none", "api_key"]
LogFormat = Literal["json", "text"]


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("expected one of 1/true/yes/on or 0/false/no/off")


def _positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("expected a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise ValueError("expected a number greater than 0")
    return value


def _non_negative_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("expected a number of seconds (0 for none)") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError("expected a number of seconds, 0 or more")
    return value


def _history(raw: str) -> int:
    value = _positive_int(raw)
    if value > 64:
        raise ValueError("expected a whole number from 1 to 64 (JetStream's KV history limit)")
    return value


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("expected a whole number") from None
    if value < 1:
        raise ValueError("expected a whole number of at least 1")
    return value


def _pattern(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not pattern.fullmatch(raw):
            raise ValueError(f"expected {what}")
        return raw

    return parse


def _tag(raw: str) -> str:
    if not names.is_tag(raw):
        raise ValueError(f"expected a tag of {names.TAG_RULE}")
    return raw


def _names(raw: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item.strip() for item in raw.split(",") if item.strip()))


def _rate(raw: str) -> float:
    try:
        return _non_negative_float(raw)
    except ValueError:
        raise ValueError("expected a number per second, 0 (no limit) or more") from None


def _tags(raw: str) -> tuple[str, ...]:
    tags = _names(raw)
    bad = [tag for tag in tags if not names.is_tag(tag)]
    if bad:
        raise ValueError(f"expected comma-separated tags of {names.TAG_RULE}; {bad[0]!r} is not")
    return tags


def parse_modules(raw: str) -> tuple[str, ...]:
    """A comma-separated list of module names that may hold task code (`ValueError` if not)."""
    modules = _names(raw)
    bad = [module for module in modules if not _MODULE_PATTERN.fullmatch(module)]
    if bad:
        raise ValueError(f"expected comma-separated module names; {', '.join(bad)} is not one")
    never = check_operator_modules(modules)
    if never:
        raise ValueError(
            f"{', '.join(never)}: the standard library and pyoco-server's own packages can never "
            "hold task code"
        )
    return modules


def _env_names(raw: str) -> tuple[str, ...]:
    found = _names(raw)
    bad = [name for name in found if not _ENV_NAME.fullmatch(name) or name.startswith("PYOCO_")]
    if bad:
        raise ValueError(
            f"{', '.join(bad)}: expected environment variable names (PYOCO_* are never exposed)"
        )
    return found


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError("expected one of " + ", ".join(choices))
        return value

    return parse


def _nats_url(raw: str) -> str:
    for url in raw.split(","):
        if not re.match(r"^(nats|tls|ws|wss)://[^\s/]+$", url.strip()):
            raise ValueError("expected nats://host:port (comma-separated for several servers)")
    return raw


def _env(name: str, parse: Callable[[str], Any], **kwargs: Any) -> Any:
    """Declare a settings field read from environment variable `name` with `parse`."""
    return dataclasses.field(metadata={"env": name, "parse": parse}, **kwargs)


_bucket = _pattern(_NAME_PATTERN, "a name of letters, digits, '_' and '-'")
_prefix = _pattern(_SUBJECT_PREFIX_PATTERN, "dot-separated subject tokens such as pyoco.work")


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """Every tunable of pyoco-server. Build it with `Settings.from_env()`; pass it down."""

    nats_url: str = _env("PYOCO_NATS_URL", _nats_url, default="nats://127.0.0.1:4222")
    default_tag: str = _env("PYOCO_DEFAULT_TAG", _tag, default="default")
    work_stream: str = _env("PYOCO_WORK_STREAM", _bucket, default="PYOCO_WORK")
    work_subject_prefix: str = _env("PYOCO_WORK_SUBJECT_PREFIX", _prefix, default="pyoco.work")
    consumer_prefix: str = _env("PYOCO_CONSUMER_PREFIX", _bucket, default="pyoco_workers")
    runs_kv_bucket: str = _env("PYOCO_RUNS_KV_BUCKET", _bucket, default="pyoco_runs")
    workers_kv_bucket: str = _env("PYOCO_WORKERS_KV_BUCKET", _bucket, default="pyoco_workers")
    auth_kv_bucket: str = _env("PYOCO_AUTH_KV_BUCKET", _bucket, default="pyoco_auth")
    auth_pepper: str = _env("PYOCO_AUTH_PEPPER", str, default="")
    idempotency_kv_bucket: str = _env(
        "PYOCO_IDEMPOTENCY_KV_BUCKET", _bucket, default="pyoco_idempotency"
    )
    idempotency_window_sec: float = _env(
        "PYOCO_IDEMPOTENCY_WINDOW_SEC", _positive_float, default=86400.0
    )
    run_retention_sec: float = _env(
        "PYOCO_RUN_RETENTION_SEC", _positive_float, default=30 * 86400.0
    )
    runs_kv_history: int = _env("PYOCO_RUNS_KV_HISTORY", _history, default=8)
    dlq_stream: str = _env("PYOCO_DLQ_STREAM", _bucket, default="PYOCO_DLQ")
    dlq_subject_prefix: str = _env("PYOCO_DLQ_SUBJECT_PREFIX", _prefix, default="pyoco.dlq")
    dlq_max_age_sec: float = _env("PYOCO_DLQ_MAX_AGE_SEC", _positive_float, default=604800.0)
    dlq_max_msgs: int = _env("PYOCO_DLQ_MAX_MSGS", _positive_int, default=100_000)
    dlq_max_bytes: int = _env("PYOCO_DLQ_MAX_BYTES", _positive_int, default=512 * 1024 * 1024)
    dlq_publish_execution_error: bool = _env(
        "PYOCO_DLQ_PUBLISH_EXECUTION_ERROR", _parse_bool, default=True
    )
    nats_replicas: int = _env("PYOCO_NATS_REPLICAS", _positive_int, default=1)
    nats_request_timeout_sec: float = _env(
        "PYOCO_NATS_REQUEST_TIMEOUT_SEC", _positive_float, default=5.0
    )
    consumer_ack_wait_sec: float = _env(
        "PYOCO_CONSUMER_ACK_WAIT_SEC", _positive_float, default=30.0
    )
    consumer_max_deliver: int = _env("PYOCO_CONSUMER_MAX_DELIVER", _positive_int, default=20)
    consumer_max_ack_pending: int = _env(
        "PYOCO_CONSUMER_MAX_ACK_PENDING", _positive_int, default=1000
    )
    ack_progress_interval_sec: float = _env(
        "PYOCO_ACK_PROGRESS_INTERVAL_SEC", _positive_float, default=10.0
    )
    run_heartbeat_interval_sec: float = _env(
        "PYOCO_RUN_HEARTBEAT_INTERVAL_SEC", _positive_float, default=5.0
    )
    snapshot_flush_interval_sec: float = _env(
        "PYOCO_SNAPSHOT_FLUSH_INTERVAL_SEC", _positive_float, default=0.05
    )
    worker_heartbeat_interval_sec: float = _env(
        "PYOCO_WORKER_HEARTBEAT_INTERVAL_SEC", _positive_float, default=5.0
    )
    worker_record_retention_sec: float = _env(
        "PYOCO_WORKER_RECORD_RETENTION_SEC", _positive_float, default=86400.0
    )
    run_timeout_sec: float = _env("PYOCO_RUN_TIMEOUT_SEC", _non_negative_float, default=0.0)
    worker_disconnect_timeout_sec: float = _env(
        "PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC", _positive_float, default=20.0
    )
    cancel_grace_period_sec: float = _env(
        "PYOCO_CANCEL_GRACE_PERIOD_SEC", _positive_float, default=30.0
    )
    max_run_snapshot_bytes: int = _env(
        "PYOCO_MAX_RUN_SNAPSHOT_BYTES", _positive_int, default=262_144
    )
    workflow_yaml_max_bytes: int = _env(
        "PYOCO_WORKFLOW_YAML_MAX_BYTES", _positive_int, default=262_144
    )
    http_auth_mode: AuthMode = _env(
        "PYOCO_HTTP_AUTH_MODE", _choice("none", "api_key"), default="none"
    )
    http_api_key_header: str = _env(
        "PYOCO_HTTP_API_KEY_HEADER",
        _pattern(re.compile(r"^[A-Za-z0-9-]{1,64}$"), "an HTTP header name"),
        default="X-API-Key",
    )
    sse_heartbeat_sec: float = _env("PYOCO_SSE_HEARTBEAT_SEC", _positive_float, default=15.0)
    http_validate_responses: bool = _env(
        "PYOCO_HTTP_VALIDATE_RESPONSES", _parse_bool, default=False
    )
    worker_shutdown_grace_sec: float = _env(
        "PYOCO_WORKER_SHUTDOWN_GRACE_SEC", _positive_float, default=30.0
    )
    reaper_interval_sec: float = _env("PYOCO_REAPER_INTERVAL_SEC", _positive_float, default=30.0)
    """How often each gateway looks for runs whose job is gone (services/reaper.py)."""
    dashboard_lang: str = _env("PYOCO_DASHBOARD_LANG", _choice("auto", "ja", "en"), default="auto")
    task_modules: tuple[str, ...] = _env("PYOCO_TASK_MODULES", parse_modules, default=())
    task_allow_all: bool = _env("PYOCO_TASK_ALLOW_ALL", _parse_bool, default=False)
    task_env: tuple[str, ...] = _env("PYOCO_TASK_ENV", _env_names, default=())
    run_as_user: str = _env("PYOCO_RUN_AS_USER", str, default="")
    wheel_store_bucket: str = _env(
        "PYOCO_WHEEL_OBJECT_STORE_BUCKET", _bucket, default="pyoco_wheels"
    )
    wheel_index_kv_bucket: str = _env(
        "PYOCO_WHEEL_INDEX_KV_BUCKET", _bucket, default="pyoco_wheel_index"
    )
    wheel_history_stream: str = _env(
        "PYOCO_WHEEL_HISTORY_STREAM", _bucket, default="PYOCO_WHEEL_HISTORY"
    )
    wheel_history_ttl_sec: float = _env(
        "PYOCO_WHEEL_HISTORY_TTL_SEC", _positive_float, default=90 * 86400.0
    )
    wheel_max_bytes: int = _env("PYOCO_WHEEL_MAX_BYTES", _positive_int, default=64 * 1024 * 1024)
    wheel_store_max_bytes: int = _env(
        "PYOCO_WHEEL_STORE_MAX_BYTES", _positive_int, default=4 * 1024 * 1024 * 1024
    )
    wheel_sync_enabled: bool = _env("PYOCO_WHEEL_SYNC_ENABLED", _parse_bool, default=False)
    wheel_sync_dir: str = _env("PYOCO_WHEEL_SYNC_DIR", str, default=".pyoco/wheels")
    wheel_sync_interval_sec: float = _env(
        "PYOCO_WHEEL_SYNC_INTERVAL_SEC", _positive_float, default=60.0
    )
    """How often a syncing worker checks its wheels again although the index did not change (it
    follows the index for changes; this retries installs that failed)."""
    wheel_install_timeout_sec: float = _env(
        "PYOCO_WHEEL_INSTALL_TIMEOUT_SEC", _positive_float, default=180.0
    )
    wheel_cache_max_bytes: int = _env(
        "PYOCO_WHEEL_CACHE_MAX_BYTES", _positive_int, default=2 * 1024 * 1024 * 1024
    )
    # Gateway limits (hardening)
    work_max_bytes: int = _env("PYOCO_WORK_MAX_BYTES", _positive_int, default=1024**3)
    work_max_age_sec: float = _env("PYOCO_WORK_MAX_AGE_SEC", _positive_float, default=2592000.0)
    runs_kv_max_bytes: int = _env("PYOCO_RUNS_KV_MAX_BYTES", _positive_int, default=4 * 1024**3)
    workflow_parse_concurrency: int = _env(
        "PYOCO_WORKFLOW_PARSE_CONCURRENCY", _positive_int, default=2
    )
    submit_rate_per_sec: float = _env("PYOCO_SUBMIT_RATE_PER_SEC", _rate, default=0.0)
    submit_burst: int = _env("PYOCO_SUBMIT_BURST", _positive_int, default=500)
    watch_max_streams: int = _env("PYOCO_WATCH_MAX_STREAMS", _positive_int, default=1000)
    watch_max_streams_per_key: int = _env(
        "PYOCO_WATCH_MAX_STREAMS_PER_KEY", _positive_int, default=100
    )
    metrics_tags: tuple[str, ...] = _env("PYOCO_METRICS_TAGS", _tags, default=())
    """Tags shown by name in metric labels (empty: the default tag and the workers' tags)."""
    nats_user: str = _env("PYOCO_NATS_USER", str, default="")
    nats_password: str = _env("PYOCO_NATS_PASSWORD", str, default="")
    nats_token: str = _env("PYOCO_NATS_TOKEN", str, default="")
    nats_creds: str = _env("PYOCO_NATS_CREDS", str, default="")
    nats_auth_dir: str = _env("PYOCO_NATS_AUTH_DIR", str, default="")
    nats_manage_resources: bool = _env("PYOCO_NATS_MANAGE_RESOURCES", _parse_bool, default=True)
    log_level: str = _env(
        "PYOCO_LOG_LEVEL",
        _choice("debug", "info", "warning", "error", "critical"),
        default="info",
    )
    log_format: LogFormat = _env("PYOCO_LOG_FORMAT", _choice("json", "text"), default="text")

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
            raw = values.get(field.metadata["env"], "")
            if raw.strip() == "":
                continue
            try:
                kwargs[field.name] = field.metadata["parse"](raw.strip())
            except ValueError as exc:
                raise SettingsError(field.metadata["env"], raw, str(exc)) from None
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


def _render(value: object) -> str:
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
        return _parse_bool(raw)
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
