"""NATS users for the embedded nats-server: one per role, each allowed only what it needs.

`up` generates a password per role on first start (`<store>/auth/<role>.json`, readable by the
owner only) and writes the server's `authorization` block with their bcrypt hashes and
permissions. The roles:

- `admin` (`pyoco-server-admin`, and `up` itself, which creates the streams and buckets):
  everything;
- `gateway`: the runs, idempotency, worker (to hide one, and to follow who serves which tag),
  workflows and wheel buckets, the work and dead-letter streams (and the work consumers' info),
  the wheel store and history, reading the API keys; never creating, changing or deleting a
  stream (so never a mirror of the API keys);
- `worker`: pulling and acknowledging jobs, the runs and worker buckets, recording dead letters,
  reading (never writing) the wheel index and store; nothing of the API keys.

Both read runs' logs (direct gets on `PYOCO_LOGS`); only workers publish them, and gateways
subscribe to them (a follow counts a run's records as they come).

Each role has an inbox prefix of its own, so that no user can read another's replies. Run
processes get no credentials at all (see `pyoco_worker.sandbox`).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import bcrypt

from pyoco_server.domain.settings import Settings
from pyoco_server.domain.subjects import Subjects
from pyoco_server.jetstream import Connection, inbox_prefix

ROLES = ("admin", "gateway", "worker")
_BCRYPT_ROUNDS = 10


def ensure_credentials(auth_dir: Path) -> dict[str, dict[str, str]]:
    """The password of each role, generated into `auth_dir` on first use."""
    auth_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(auth_dir, 0o700)
    found = {}
    for role in ROLES:
        path = auth_dir / f"{role}.json"
        if not path.is_file():
            record = {"user": role, "password": secrets.token_urlsafe(24)}
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                json.dump(record, file)
        found[role] = json.loads(path.read_text())
    return found


def server_config(credentials: dict[str, dict[str, str]], settings: Settings) -> str:
    """The nats-server config (an `authorization` block) for these credentials."""
    users = []
    for role in ROLES:
        hashed = bcrypt.hashpw(
            credentials[role]["password"].encode(), bcrypt.gensalt(_BCRYPT_ROUNDS)
        ).decode()
        user: dict[str, Any] = {"user": credentials[role]["user"], "password": hashed}
        permissions = _permissions(role, settings)
        if permissions is not None:
            user["permissions"] = permissions
        users.append(user)
    return "authorization " + json.dumps({"users": users}, indent=2) + "\n"


def _permissions(role: str, settings: Settings) -> dict[str, Any] | None:
    if role == "admin":
        return None
    publish = _gateway_publish(settings) if role == "gateway" else _worker_publish(settings)
    subscribe = [f"{inbox_prefix(role)}.>", _advisories(settings)]
    if role == "worker":
        subscribe.append(Subjects.cancel_all)
    else:  # a follow of a run's logs counts its records as they are published
        subscribe.append(Subjects.run_logs_all)
    return {"publish": {"allow": publish}, "subscribe": {"allow": subscribe}}


def _read(stream: str, *, direct: bool = False, consumers: bool = False) -> list[str]:
    """What reading `stream` takes: its info, message get, and (for watches) consumers."""
    allowed = [f"$JS.API.STREAM.INFO.{stream}", f"$JS.API.STREAM.MSG.GET.{stream}"]
    if direct:
        allowed.append(f"$JS.API.DIRECT.GET.{stream}.>")
    if consumers:
        allowed += [
            f"$JS.API.CONSUMER.CREATE.{stream}",
            f"$JS.API.CONSUMER.CREATE.{stream}.>",
            f"$JS.API.CONSUMER.INFO.{stream}.*",
            f"$JS.API.CONSUMER.DELETE.{stream}.*",
            f"$JS.FC.{stream}.>",
        ]
    return allowed


def _advisories(settings: Settings) -> str:
    return Subjects.from_settings(settings).max_deliveries_all


def _common(settings: Settings) -> list[str]:
    """What both services take: the work and runs streams, advisories' jobs, dead letters."""
    s = settings
    return [
        "$JS.API.INFO",
        "$JS.API.STREAM.NAMES",
        *_read(s.work_stream),
        f"$JS.API.STREAM.MSG.DELETE.{s.work_stream}",
        *_read(f"KV_{s.runs_kv_bucket}", direct=True, consumers=True),
        f"$KV.{s.runs_kv_bucket}.>",
        *_read(f"KV_{s.workers_kv_bucket}", direct=True),
        f"$KV.{s.workers_kv_bucket}.>",
        *_read(s.dlq_stream),
        f"{s.dlq_subject_prefix}.>",
        *_read(f"KV_{s.wheel_index_kv_bucket}", direct=True, consumers=True),
        *_read(f"OBJ_{s.wheel_store_bucket}", consumers=True),
        *_read_logs(),
    ]


def _read_logs() -> list[str]:
    """Reading runs' logs: batched and last-by-subject direct gets (no consumers)."""
    stream = Subjects.logs_stream
    return [f"$JS.API.DIRECT.GET.{stream}", f"$JS.API.DIRECT.GET.{stream}.>"]


def _gateway_publish(settings: Settings) -> list[str]:
    s = settings
    return [
        *_common(s),
        f"{s.work_subject_prefix}.>",
        "pyoco.cancel.>",
        f"$JS.API.CONSUMER.LIST.{s.work_stream}",
        f"$JS.API.CONSUMER.INFO.{s.work_stream}.*",
        *_read(f"KV_{s.workers_kv_bucket}", direct=True, consumers=True),
        *_read(f"KV_{s.workflows_kv_bucket}", direct=True),
        f"$KV.{s.workflows_kv_bucket}.>",
        f"$JS.API.STREAM.MSG.DELETE.{s.dlq_stream}",
        *_read(f"KV_{s.idempotency_kv_bucket}", direct=True),
        f"$KV.{s.idempotency_kv_bucket}.>",
        *_read(f"KV_{s.auth_kv_bucket}", direct=True, consumers=True),
        f"$KV.{s.wheel_index_kv_bucket}.>",
        f"$O.{s.wheel_store_bucket}.>",
        f"$JS.API.STREAM.PURGE.OBJ_{s.wheel_store_bucket}",
        *_read(s.wheel_history_stream),
        Subjects.from_settings(s).wheel_history,
    ]


def _worker_publish(settings: Settings) -> list[str]:
    s = settings
    return [
        *_common(s),
        f"$JS.API.CONSUMER.CREATE.{s.work_stream}.>",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{s.work_stream}.>",
        f"$JS.API.CONSUMER.INFO.{s.work_stream}.*",
        f"$JS.API.CONSUMER.MSG.NEXT.{s.work_stream}.>",
        f"$JS.ACK.{s.work_stream}.>",
        Subjects.run_logs_all,
    ]


def prepare(store_dir: Path, settings: Settings) -> tuple[Path, Path]:
    """Credentials and server config for an embedded NATS; (config file, credentials dir)."""
    auth_dir = store_dir.resolve() / "auth"
    credentials = ensure_credentials(auth_dir)
    config = store_dir.resolve() / "auth.conf"
    descriptor = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(server_config(credentials, settings))
    return config, auth_dir


async def create_resources(settings: Settings, auth_dir: Path, timeout: float = 30.0) -> None:
    """Connect as admin and create (or reconcile) the streams and buckets, then disconnect.

    Raises:
        TimeoutError: NATS did not answer in time.
    """
    admin = settings.replace(nats_auth_dir=str(auth_dir), nats_manage_resources=True)
    connection = Connection(admin, "pyoco-server-up", role="admin")
    await connection.start()
    try:
        if not await connection.wait_ready(timeout):
            raise TimeoutError(f"NATS at {settings.nats_url} did not become ready in {timeout:g}s")
    finally:
        await connection.close()
