"""Create the JetStream resources idempotently and keep them in line with the settings.

A setting that changed since a resource was created is applied to it when JetStream allows the
change, and logged as an error with the way out when it does not (retention and storage type are
fixed at creation); it is never silently ignored. Replicas follow `PYOCO_JS_REPLICAS` when it is
set; unset, resources are created with 1 and existing ones keep theirs (a process started without
it never scales a cluster's streams down). Replicas the NATS cannot place fail the whole step with
a `PlacementError` that says why and what to do: the caller retries, and the resource keeps the
replicas it has meanwhile.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterator
from typing import Any

import nats.js.errors
from nats.js import JetStreamContext
from nats.js.api import (
    DiscardPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from pyoco_server.domain.settings import Settings
from pyoco_server.domain.subjects import Subjects

log = logging.getLogger(__name__)

_MUTABLE = (
    "subjects",
    "max_age",
    "max_msgs",
    "max_bytes",
    "num_replicas",
    "duplicate_window",
    "max_msgs_per_subject",
    "subject_delete_marker_ttl",
    "discard",
    "allow_direct",
)
_DELETE_MARKER_TTL_SEC = 300.0
"""How long the marker JetStream leaves for an expired run lives, for watchers to see it."""
_FIXED = ("retention", "storage")
_DUPLICATE_WINDOW_SEC = 120.0

_NOT_CLUSTERED = 10074
"""JetStream's error code for replicas above 1 on a server outside a cluster."""
_NO_PEERS = (10005, 10023)
"""No suitable peers for placement; insufficient resources."""
_NAME_IN_USE = 10058


class PlacementError(nats.errors.Error):
    """JetStream cannot place the replicas the settings ask for; the message says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@contextlib.contextmanager
def _placing(resource: str, replicas: int) -> Iterator[None]:
    """Turn JetStream's refusals to place `replicas` of `resource` into a `PlacementError`."""
    try:
        yield
    except nats.js.errors.APIError as exc:
        if exc.err_code == _NOT_CLUSTERED:
            raise PlacementError(
                f"PYOCO_JS_REPLICAS is {replicas}, but this NATS server is not part of a "
                f"cluster, so {resource} cannot have more than 1 replica: set "
                "PYOCO_JS_REPLICAS=1, or connect to a JetStream cluster of at least "
                f"{replicas} servers (locally: pyoco-server nats-cluster up --nodes {replicas})"
            ) from None
        if exc.err_code in _NO_PEERS:
            raise PlacementError(
                f"JetStream cannot place {replicas} replicas of {resource} ({exc.description}): "
                f"the cluster has fewer than {replicas} JetStream servers up, or is still "
                "forming. Start the missing servers, or lower PYOCO_JS_REPLICAS; retrying"
            ) from None
        raise


def work_stream_config(settings: Settings) -> StreamConfig:
    """The work queue: one subject per tag, each job removed once acknowledged.

    Bounded by PYOCO_WORK_MAX_BYTES and PYOCO_WORK_MAX_AGE_SEC; when full, JetStream refuses new
    jobs (`discard: new`: a submit then fails, 503 `queue_full`) rather than dropping queued ones.
    """
    return StreamConfig(
        name=settings.work_stream,
        subjects=[Subjects.from_settings(settings).work_all],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        num_replicas=settings.js_replicas,
        duplicate_window=_DUPLICATE_WINDOW_SEC,
        max_bytes=settings.work_max_bytes,
        max_age=settings.work_max_age_sec,
        discard=DiscardPolicy.NEW,
    )


def dead_letter_stream_config(settings: Settings) -> StreamConfig:
    """The dead-letter stream: bounded by age, count and size."""
    return StreamConfig(
        name=settings.dlq_stream,
        subjects=[Subjects.from_settings(settings).dead_letter_all],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        num_replicas=settings.js_replicas,
        max_age=settings.dlq_max_age_sec,
        max_msgs=settings.dlq_max_msgs,
        max_bytes=settings.dlq_max_bytes,
        duplicate_window=_DUPLICATE_WINDOW_SEC,
    )


def bucket_configs(settings: Settings) -> list[KeyValueConfig]:
    """The key-value buckets: runs, workers, API and idempotency keys, wheel index, workflows.

    - runs: the last PYOCO_RUNS_KV_HISTORY snapshots of each run (a watch resumed with
      Last-Event-ID replays them), removed PYOCO_RUN_RETENTION_SEC after the run's last write,
      with a marker so the gateways' watches drop it from their index; at most
      PYOCO_RUNS_KV_MAX_BYTES in all (`discard: new`, as every bucket: a write beyond fails);
    - workers: a record expires PYOCO_WORKER_RECORD_RETENTION_SEC after its last write;
    - idempotency: a record expires after PYOCO_IDEMPOTENCY_WINDOW_SEC;
    - workflows: a file is kept as long as runs are (PYOCO_RUN_RETENTION_SEC after it was last
      stored), at most PYOCO_WORKFLOWS_KV_MAX_BYTES in all.

    With one replica a bucket answers direct gets (cheaper); replicated, it does not: any
    replica answers a direct get, and a follower that lags (frozen, just restarted) answers
    with what it has, so a worker could find a run missing or not yet ended and run it twice.
    Gets then go to the stream's leader.
    """

    def bucket(
        name: str,
        *,
        history: int = 1,
        ttl: float | None = None,
        markers: bool = False,
        max_bytes: int | None = None,
    ) -> KeyValueConfig:
        return KeyValueConfig(
            bucket=name,
            history=history,
            storage=StorageType.FILE,
            replicas=settings.js_replicas or 1,
            direct=direct_gets(settings.js_replicas or 1),
            ttl=ttl,
            limit_marker_ttl=_DELETE_MARKER_TTL_SEC if markers else None,
            max_bytes=max_bytes,
        )

    return [
        bucket(
            settings.runs_kv_bucket,
            history=settings.runs_kv_history,
            ttl=settings.run_retention_sec,
            markers=True,
            max_bytes=settings.runs_kv_max_bytes,
        ),
        bucket(settings.workers_kv_bucket, ttl=settings.worker_record_retention_sec),
        bucket(settings.auth_kv_bucket),
        bucket(settings.idempotency_kv_bucket, ttl=settings.idempotency_window_sec),
        bucket(settings.wheel_index_kv_bucket),
        bucket(
            settings.workflows_kv_bucket,
            ttl=settings.run_retention_sec,
            max_bytes=settings.workflows_max_bytes,
        ),
    ]


def wheel_history_stream_config(settings: Settings) -> StreamConfig:
    """Wheel uploads and deletions: kept PYOCO_WHEEL_HISTORY_TTL_SEC."""
    return StreamConfig(
        name=settings.wheel_history_stream,
        subjects=[Subjects.from_settings(settings).wheel_history],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        num_replicas=settings.js_replicas,
        max_age=settings.wheel_history_ttl_sec,
        duplicate_window=_DUPLICATE_WINDOW_SEC,
    )


def logs_stream_config(settings: Settings) -> StreamConfig:
    """Runs' task logs: a subject per run, with direct gets (read without a consumer).

    Kept PYOCO_RUN_LOGS_MAX_AGE_SEC (0: as long as runs, PYOCO_RUN_RETENTION_SEC), at most
    PYOCO_RUN_LOGS_MAX_BYTES in all (the oldest records go first).
    """
    subjects = Subjects.from_settings(settings)
    return StreamConfig(
        name=subjects.logs_stream,
        subjects=[subjects.run_logs_all],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        num_replicas=settings.js_replicas,
        max_age=settings.run_logs_max_age_sec or settings.run_retention_sec,
        max_bytes=settings.run_logs_max_bytes,
        discard=DiscardPolicy.OLD,
        allow_direct=True,
        duplicate_window=_DUPLICATE_WINDOW_SEC,
    )


def direct_gets(replicas: int) -> bool:
    """Whether buckets of `replicas` answer direct gets (see `bucket_configs`)."""
    return replicas == 1


async def ensure_resources(js: JetStreamContext, settings: Settings) -> None:
    """Create what is missing and reconcile what exists; safe to call from every process."""
    await _ensure_stream(js, work_stream_config(settings))
    await _ensure_stream(js, dead_letter_stream_config(settings))
    await _ensure_stream(js, wheel_history_stream_config(settings))
    await _ensure_stream(js, logs_stream_config(settings))
    for config in bucket_configs(settings):
        await _ensure_bucket(js, config, settings.js_replicas)
    await _ensure_object_store(js, settings)


async def _ensure_object_store(js: JetStreamContext, settings: Settings) -> None:
    """The wheel files: created with its size bound, reconciled like the streams."""
    stream = f"OBJ_{settings.wheel_store_bucket}"
    try:
        info = await js.stream_info(stream)
    except nats.js.errors.NotFoundError:
        with _placing(f"object store {settings.wheel_store_bucket}", settings.js_replicas or 1):
            await js.create_object_store(
                settings.wheel_store_bucket,
                storage=StorageType.FILE,
                replicas=settings.js_replicas or 1,
                max_bytes=settings.wheel_store_max_bytes,
                description="pyoco-server wheel registry",
            )
        log.info("created object store %s", settings.wheel_store_bucket)
        return
    wanted = dataclasses.replace(
        info.config, num_replicas=settings.js_replicas, max_bytes=settings.wheel_store_max_bytes
    )
    await _reconcile(js, info.config, wanted)


async def check_resources(js: JetStreamContext, settings: Settings) -> None:
    """Check that the resources every role uses exist (for users who may not create them).

    Others (the API keys, the wheel registry) are checked where they are used.

    Raises:
        nats.js.errors.NotFoundError: one is missing (an admin creates them: `pyoco-server-admin
            setup`, or `pyoco-server up`).
    """
    streams = [
        settings.work_stream,
        settings.dlq_stream,
        f"KV_{settings.runs_kv_bucket}",
        f"KV_{settings.workers_kv_bucket}",
    ]
    for stream in streams:
        try:
            info = await js.stream_info(stream)
        except nats.js.errors.NotFoundError:
            raise nats.js.errors.NotFoundError(
                description=f"stream {stream} does not exist; an admin creates it with "
                "`pyoco-server-admin setup`"
            ) from None
        wanted = settings.js_replicas
        if wanted is not None and info.config.num_replicas != wanted:
            log.warning(
                "stream %s has %s replicas where PYOCO_JS_REPLICAS is %d; this NATS user may "
                "not change it: an admin applies it with `pyoco-server-admin setup`",
                stream,
                info.config.num_replicas,
                wanted,
            )


async def _ensure_stream(js: JetStreamContext, wanted: StreamConfig) -> None:
    assert wanted.name is not None
    try:
        info = await js.stream_info(wanted.name)
    except nats.js.errors.NotFoundError:
        try:
            with _placing(f"stream {wanted.name}", wanted.num_replicas or 1):
                await js.add_stream(wanted)
        except nats.js.errors.BadRequestError as exc:
            if exc.err_code != _NAME_IN_USE:
                raise
            # Another process created it first: fall through to reconcile with theirs.
            info = await js.stream_info(wanted.name)
        else:
            log.info("created stream %s", wanted.name)
            return
    await _reconcile(js, info.config, wanted)


async def _ensure_bucket(
    js: JetStreamContext, config: KeyValueConfig, replicas: int | None
) -> None:
    stream = f"KV_{config.bucket}"
    try:
        info = await js.stream_info(stream)
    except nats.js.errors.NotFoundError:
        with _placing(f"bucket {config.bucket}", config.replicas):
            await js.create_key_value(config)
        log.info("created key-value bucket %s", config.bucket)
        return
    wanted = dataclasses.replace(
        info.config,
        num_replicas=replicas,
        allow_direct=info.config.allow_direct if replicas is None else direct_gets(replicas),
        max_age=config.ttl or info.config.max_age,
        max_msgs_per_subject=config.history,
        subject_delete_marker_ttl=config.limit_marker_ttl or info.config.subject_delete_marker_ttl,
        max_bytes=config.max_bytes or info.config.max_bytes,
        discard=DiscardPolicy.NEW,
    )
    await _reconcile(js, info.config, wanted)


async def _reconcile(js: JetStreamContext, current: StreamConfig, wanted: StreamConfig) -> None:
    fixed = _differences(current, wanted, _FIXED)
    if fixed:
        log.error(
            "stream %s exists with %s; these cannot change in place: delete the stream "
            "(losing its messages) or restore the settings it was created with",
            current.name,
            fixed,
        )
    changed = _differences(current, wanted, _MUTABLE)
    if not changed:
        return
    update = dataclasses.replace(current, **{name: getattr(wanted, name) for name in changed})
    with _placing(f"stream {current.name}", update.num_replicas or 1):
        await js.update_stream(update)
    log.warning("updated stream %s to the current settings: %s", current.name, changed)


def _differences(
    current: StreamConfig, wanted: StreamConfig, names: tuple[str, ...]
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in names:
        want = getattr(wanted, name)
        have = getattr(current, name)
        if want is None or (name == "duplicate_window" and not want) or _same(have, want):
            continue
        found[name] = {"is": have, "wanted": want}
    return found


def _same(have: Any, want: Any) -> bool:
    if isinstance(want, float) and isinstance(have, (int, float)):
        return abs(have - want) < 1e-6
    if isinstance(want, list) and isinstance(have, list):
        return sorted(have) == sorted(want)
    return bool(have == want)
