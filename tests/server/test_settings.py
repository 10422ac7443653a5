"""Settings: defaults, parsing of every PYOCO_* variable, errors (dotenv: test_settings_dotenv)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pyoco_server.domain.errors import SettingsError
from pyoco_server.domain.settings import Settings, is_configured

NO_DOTENV = {"PYOCO_LOAD_DOTENV": "0"}

# One valid, non-default value per variable, and what it parses to.
SAMPLES: dict[str, tuple[str, str, object]] = {
    "PYOCO_NATS_URL": ("nats_url", "nats://a:1,tls://b:2", "nats://a:1,tls://b:2"),
    "PYOCO_DEFAULT_TAG": ("default_tag", "gpu_2", "gpu_2"),
    "PYOCO_WORK_STREAM": ("work_stream", "WORK-2", "WORK-2"),
    "PYOCO_WORK_SUBJECT_PREFIX": ("work_subject_prefix", "acme.work", "acme.work"),
    "PYOCO_CONSUMER_PREFIX": ("consumer_prefix", "acme_workers", "acme_workers"),
    "PYOCO_RUNS_KV_BUCKET": ("runs_kv_bucket", "acme_runs", "acme_runs"),
    "PYOCO_WORKERS_KV_BUCKET": ("workers_kv_bucket", "acme_wk", "acme_wk"),
    "PYOCO_AUTH_KV_BUCKET": ("auth_kv_bucket", "acme_auth", "acme_auth"),
    "PYOCO_DLQ_STREAM": ("dlq_stream", "ACME_DLQ", "ACME_DLQ"),
    "PYOCO_DLQ_SUBJECT_PREFIX": ("dlq_subject_prefix", "acme.dlq", "acme.dlq"),
    "PYOCO_DLQ_MAX_AGE_SEC": ("dlq_max_age_sec", "60.5", 60.5),
    "PYOCO_DLQ_MAX_MSGS": ("dlq_max_msgs", "7", 7),
    "PYOCO_DLQ_MAX_BYTES": ("dlq_max_bytes", "1024", 1024),
    "PYOCO_DLQ_PUBLISH_EXECUTION_ERROR": ("dlq_publish_execution_error", "false", False),
    "PYOCO_JS_REPLICAS": ("js_replicas", "3", 3),
    "PYOCO_NATS_REQUEST_TIMEOUT_SEC": ("nats_request_timeout_sec", "2.5", 2.5),
    "PYOCO_CONSUMER_ACK_WAIT_SEC": ("consumer_ack_wait_sec", "45", 45.0),
    "PYOCO_CONSUMER_MAX_DELIVER": ("consumer_max_deliver", "3", 3),
    "PYOCO_CONSUMER_MAX_ACK_PENDING": ("consumer_max_ack_pending", "12", 12),
    "PYOCO_ACK_PROGRESS_INTERVAL_SEC": ("ack_progress_interval_sec", "1.5", 1.5),
    "PYOCO_RUN_HEARTBEAT_INTERVAL_SEC": ("run_heartbeat_interval_sec", "0.5", 0.5),
    "PYOCO_SNAPSHOT_FLUSH_INTERVAL_SEC": ("snapshot_flush_interval_sec", "0.2", 0.2),
    "PYOCO_WORKER_HEARTBEAT_INTERVAL_SEC": ("worker_heartbeat_interval_sec", "2", 2.0),
    "PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC": ("worker_disconnect_timeout_sec", "9", 9.0),
    "PYOCO_WORKER_RECORD_RETENTION_SEC": ("worker_record_retention_sec", "3600", 3600.0),
    "PYOCO_RUN_TIMEOUT_SEC": ("run_timeout_sec", "90", 90.0),
    "PYOCO_SSE_HEARTBEAT_SEC": ("sse_heartbeat_sec", "2.5", 2.5),
    "PYOCO_HTTP_HEADER_TIMEOUT_SEC": ("http_header_timeout_sec", "12.5", 12.5),
    "PYOCO_HTTP_BODY_MIN_BYTES_PER_SEC": ("http_body_min_bytes_per_sec", "512", 512),
    "PYOCO_HTTP_BODIES_MAX_BYTES": ("http_bodies_max_bytes", "1048576", 1048576),
    "PYOCO_RUN_RETENTION_SEC": ("run_retention_sec", "3600", 3600.0),
    "PYOCO_RUNS_KV_HISTORY": ("runs_kv_history", "4", 4),
    "PYOCO_IDEMPOTENCY_KV_BUCKET": ("idempotency_kv_bucket", "acme_idem", "acme_idem"),
    "PYOCO_IDEMPOTENCY_WINDOW_SEC": ("idempotency_window_sec", "60", 60.0),
    "PYOCO_AUTH_PEPPER": ("auth_pepper", "pepper-1", "pepper-1"),
    "PYOCO_DEFAULT_TENANT": ("default_tenant", "before-keys", "before-keys"),
    "PYOCO_INDEX_DIR": ("index_dir", "/var/cache/pyoco", "/var/cache/pyoco"),
    "PYOCO_WORKFLOWS_KV_BUCKET": ("workflows_kv_bucket", "acme_wf", "acme_wf"),
    "PYOCO_WORKFLOWS_KV_MAX_BYTES": ("workflows_max_bytes", "4096", 4096),
    "PYOCO_CANCEL_GRACE_PERIOD_SEC": ("cancel_grace_period_sec", "4", 4.0),
    "PYOCO_WORKER_RELOAD": ("worker_reload", "on", True),
    "PYOCO_MAX_RUN_SNAPSHOT_BYTES": ("max_run_snapshot_bytes", "4096", 4096),
    "PYOCO_WORKFLOW_YAML_MAX_BYTES": ("workflow_yaml_max_bytes", "2048", 2048),
    "PYOCO_HTTP_AUTH_MODE": ("http_auth_mode", "API_KEY", "api_key"),
    "PYOCO_HTTP_API_KEY_HEADER": ("http_api_key_header", "X-Token", "X-Token"),
    "PYOCO_HTTP_VALIDATE_RESPONSES": ("http_validate_responses", "yes", True),
    "PYOCO_WORKER_SHUTDOWN_GRACE_SEC": ("worker_shutdown_grace_sec", "12", 12.0),
    "PYOCO_DASHBOARD_LANG": ("dashboard_lang", "ja", "ja"),
    "PYOCO_LOG_LEVEL": ("log_level", "DEBUG", "debug"),
    "PYOCO_LOG_FORMAT": ("log_format", "json", "json"),
    "PYOCO_TASK_MODULES": ("task_modules", "my_ext, acme.tasks", ("my_ext", "acme.tasks")),
    "PYOCO_TASK_ALLOW_ALL": ("task_allow_all", "1", True),
    "PYOCO_TASK_ENV": ("task_env", "HOME_REGION,API_BASE", ("HOME_REGION", "API_BASE")),
    "PYOCO_RUN_AS_USER": ("run_as_user", "nobody", "nobody"),
    "PYOCO_WHEEL_OBJECT_STORE_BUCKET": ("wheel_store_bucket", "acme_wheels", "acme_wheels"),
    "PYOCO_WHEEL_INDEX_KV_BUCKET": ("wheel_index_kv_bucket", "acme_widx", "acme_widx"),
    "PYOCO_WHEEL_HISTORY_STREAM": ("wheel_history_stream", "ACME_WH", "ACME_WH"),
    "PYOCO_WHEEL_HISTORY_TTL_SEC": ("wheel_history_ttl_sec", "86400", 86400.0),
    "PYOCO_WHEEL_MAX_BYTES": ("wheel_max_bytes", "1048576", 1048576),
    "PYOCO_WHEEL_STORE_MAX_BYTES": ("wheel_store_max_bytes", "10485760", 10485760),
    "PYOCO_WHEEL_SYNC_ENABLED": ("wheel_sync_enabled", "true", True),
    "PYOCO_WHEEL_SYNC_DIR": ("wheel_sync_dir", "/var/lib/pyoco/wheels", "/var/lib/pyoco/wheels"),
    "PYOCO_WHEEL_SYNC_INTERVAL_SEC": ("wheel_sync_interval_sec", "5", 5.0),
    "PYOCO_WHEEL_INSTALL_TIMEOUT_SEC": ("wheel_install_timeout_sec", "30", 30.0),
    "PYOCO_WHEEL_CACHE_MAX_BYTES": ("wheel_cache_max_bytes", "1000000", 1000000),
    "PYOCO_WORK_MAX_BYTES": ("work_max_bytes", "65536", 65536),
    "PYOCO_WORK_MAX_AGE_SEC": ("work_max_age_sec", "3600", 3600.0),
    "PYOCO_RUNS_KV_MAX_BYTES": ("runs_kv_max_bytes", "1048576", 1048576),
    "PYOCO_WORKFLOW_PARSE_CONCURRENCY": ("workflow_parse_concurrency", "4", 4),
    "PYOCO_SUBMIT_RATE_PER_SEC": ("submit_rate_per_sec", "50", 50.0),
    "PYOCO_SUBMIT_BURST": ("submit_burst", "20", 20),
    "PYOCO_WATCH_MAX_STREAMS": ("watch_max_streams", "50", 50),
    "PYOCO_WATCH_MAX_STREAMS_PER_KEY": ("watch_max_streams_per_key", "5", 5),
    "PYOCO_RUN_LOG_MAX_BYTES": ("run_log_max_bytes", "4096", 4096),
    "PYOCO_RUN_MEMORY_MAX_BYTES": ("run_memory_max_bytes", "536870912", 512 * 1024**2),
    "PYOCO_RUN_LOGS_MAX_AGE_SEC": ("run_logs_max_age_sec", "3600", 3600.0),
    "PYOCO_RUN_LOGS_MAX_BYTES": ("run_logs_max_bytes", "1048576", 1048576),
    "PYOCO_METRICS_TAGS": ("metrics_tags", "gpu, cpu_2", ("gpu", "cpu_2")),
    "PYOCO_NATS_USER": ("nats_user", "gw", "gw"),
    "PYOCO_NATS_PASSWORD": ("nats_password", "s3cret", "s3cret"),
    "PYOCO_NATS_TOKEN": ("nats_token", "t0k", "t0k"),
    "PYOCO_NATS_CREDS": ("nats_creds", "/etc/pyoco/gw.creds", "/etc/pyoco/gw.creds"),
    "PYOCO_NATS_AUTH_DIR": ("nats_auth_dir", "/etc/pyoco/auth", "/etc/pyoco/auth"),
    "PYOCO_NATS_MANAGE_RESOURCES": ("nats_manage_resources", "0", False),
    "PYOCO_REAPER_INTERVAL_SEC": ("reaper_interval_sec", "5", 5.0),
}


def write_env_file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_environment_or_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    settings = Settings.from_env({})

    assert settings == Settings()
    assert settings.nats_url == "nats://127.0.0.1:4222"
    assert settings.default_tag == "default"
    assert settings.work_subject_prefix == "pyoco.work"
    assert settings.runs_kv_bucket == "pyoco_runs"
    assert settings.consumer_ack_wait_sec == 30.0
    assert settings.consumer_max_deliver == 20
    assert settings.snapshot_flush_interval_sec == 0.05
    assert settings.max_run_snapshot_bytes == 262_144
    assert settings.dlq_publish_execution_error is True
    assert settings.http_auth_mode == "none"
    assert settings.http_validate_responses is False
    assert settings.log_level == "info"
    assert settings.log_format == "text"


def test_samples_cover_every_field() -> None:
    declared = {field.metadata["env"]: field.name for field in dataclasses.fields(Settings)}

    assert {name: sample[0] for name, sample in SAMPLES.items()} == declared


@pytest.mark.parametrize(("variable", "sample"), SAMPLES.items(), ids=list(SAMPLES))
def test_every_field_parses_from_its_variable(
    variable: str, sample: tuple[str, str, object]
) -> None:
    field, raw, expected = sample

    settings = Settings.from_env({**NO_DOTENV, variable: raw})

    assert getattr(settings, field) == expected
    assert getattr(settings, field) != getattr(Settings(), field)


def test_values_are_stripped() -> None:
    settings = Settings.from_env({**NO_DOTENV, "PYOCO_CONSUMER_MAX_DELIVER": "  5 \n"})

    assert settings.consumer_max_deliver == 5


def test_from_env_reads_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYOCO_DEFAULT_TAG", "from_process")

    assert Settings.from_env().default_tag == "from_process"


@pytest.mark.parametrize(
    ("variable", "raw", "accepts"),
    [
        ("PYOCO_CONSUMER_ACK_WAIT_SEC", "abc", "a number of seconds"),
        ("PYOCO_CONSUMER_ACK_WAIT_SEC", "-1", "greater than 0"),
        ("PYOCO_CONSUMER_ACK_WAIT_SEC", "0", "greater than 0"),
        ("PYOCO_CONSUMER_ACK_WAIT_SEC", "nan", "greater than 0"),
        ("PYOCO_CONSUMER_ACK_WAIT_SEC", "inf", "greater than 0"),
        ("PYOCO_DLQ_MAX_MSGS", "1.5", "a whole number"),
        ("PYOCO_DLQ_MAX_MSGS", "0", "at least 1"),
        ("PYOCO_DEFAULT_TAG", "a.b", "letters, digits"),
        ("PYOCO_DEFAULT_TAG", "x" * 65, "letters, digits"),
        ("PYOCO_WORK_STREAM", "has space", "letters, digits"),
        ("PYOCO_WORK_SUBJECT_PREFIX", "a..b", "dot-separated subject tokens"),
        ("PYOCO_NATS_URL", "http://x", "nats://host:port"),
        ("PYOCO_NATS_URL", "nats://a:1,", "nats://host:port"),
        ("PYOCO_HTTP_AUTH_MODE", "oauth", "one of none, api_key"),
        ("PYOCO_HTTP_API_KEY_HEADER", "X_Key", "an HTTP header name"),
        ("PYOCO_LOG_LEVEL", "verbose", "one of debug, info"),
        ("PYOCO_DLQ_PUBLISH_EXECUTION_ERROR", "maybe", "1/true/yes/on or 0/false/no/off"),
        ("PYOCO_HTTP_VALIDATE_RESPONSES", "2", "1/true/yes/on or 0/false/no/off"),
        ("PYOCO_RUN_MEMORY_MAX_BYTES", "1000000", "0 (no limit) or at least 134217728 bytes"),
        ("PYOCO_RUN_MEMORY_MAX_BYTES", "1G", "a whole number of bytes"),
    ],
)
def test_invalid_value_names_the_variable_and_what_it_accepts(
    variable: str, raw: str, accepts: str
) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({**NO_DOTENV, variable: raw})

    error = info.value
    assert error.variable == variable
    assert error.value == raw
    assert accepts in error.expected
    assert variable in str(error)
    assert accepts in str(error)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("On", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("OFF", False),
    ],
)
def test_booleans_accept_the_usual_spellings(raw: str, expected: bool) -> None:
    settings = Settings.from_env({**NO_DOTENV, "PYOCO_HTTP_VALIDATE_RESPONSES": raw})

    assert settings.http_validate_responses is expected


def test_is_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_env_file(tmp_path / ".env", "PYOCO_DEFAULT_TAG=from_file\nPYOCO_LOG_LEVEL=\n")

    assert is_configured("PYOCO_NATS_URL", {"PYOCO_NATS_URL": "nats://h:1"})
    assert is_configured("PYOCO_DEFAULT_TAG", {})
    assert not is_configured("PYOCO_DEFAULT_TAG", NO_DOTENV)
    assert not is_configured("PYOCO_LOG_LEVEL", {})
    assert not is_configured("PYOCO_NATS_URL", {"PYOCO_NATS_URL": "  "})
    assert not is_configured("PYOCO_NATS_URL", {})


def test_is_configured_reads_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert not is_configured("PYOCO_NATS_URL")

    monkeypatch.setenv("PYOCO_NATS_URL", "nats://h:1")

    assert is_configured("PYOCO_NATS_URL")


def test_to_env_round_trips_the_defaults() -> None:
    settings = Settings()

    assert Settings.from_env(settings.to_env()) == settings


def test_to_env_round_trips_every_changed_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.from_env({**NO_DOTENV, **{name: s[1] for name, s in SAMPLES.items()}})
    # A child's working directory may hold a .env; the rendered environment must not read it.
    monkeypatch.chdir(tmp_path)
    write_env_file(tmp_path / ".env", "PYOCO_DEFAULT_TAG=from_file\nPYOCO_NATS_REPLICAS=5\n")

    env = settings.to_env()

    assert env["PYOCO_LOAD_DOTENV"] == "0"
    assert all(isinstance(value, str) for value in env.values())
    assert Settings.from_env(env) == settings


def test_replace_returns_a_changed_copy() -> None:
    settings = Settings()

    changed = settings.replace(nats_url="nats://other:4222")

    assert changed.nats_url == "nats://other:4222"
    assert settings.nats_url == "nats://127.0.0.1:4222"


def test_settings_are_frozen() -> None:
    settings = Settings()

    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.nats_url = "nats://other:4222"  # type: ignore[misc]


def test_an_older_name_is_read_when_the_new_one_is_unset() -> None:
    assert Settings.from_env({**NO_DOTENV, "PYOCO_NATS_REPLICAS": "3"}).js_replicas == 3
    both = {**NO_DOTENV, "PYOCO_JS_REPLICAS": "3", "PYOCO_NATS_REPLICAS": " 3"}
    assert Settings.from_env(both).js_replicas == 3


def test_an_older_name_that_disagrees_with_the_new_one_is_an_error() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({**NO_DOTENV, "PYOCO_JS_REPLICAS": "3", "PYOCO_NATS_REPLICAS": "1"})

    assert info.value.variable == "PYOCO_NATS_REPLICAS"
    assert "PYOCO_JS_REPLICAS is set to '3'" in str(info.value)


def test_an_invalid_older_name_is_reported_under_its_own_name() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({**NO_DOTENV, "PYOCO_NATS_REPLICAS": "0"})

    assert info.value.variable == "PYOCO_NATS_REPLICAS"
