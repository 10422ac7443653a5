"""Which NATS credentials a process connects with.

In order: the settings' `PYOCO_NATS_CREDS` (a NATS .creds file), `PYOCO_NATS_TOKEN`, or
`PYOCO_NATS_USER` and `PYOCO_NATS_PASSWORD`; else the file of the process's role in the
credentials directory `pyoco-server up` generates for its embedded NATS (`PYOCO_NATS_AUTH_DIR`,
by default `.pyoco/nats/auth` when it exists), so a worker, the admin CLI or a second `up`
started in the same directory finds them by itself; else none.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from pyoco_server.domain.settings import Settings

DEFAULT_AUTH_DIR = Path(".pyoco/nats/auth")
"""Where `up` generates the credentials of its embedded NATS (under its store directory)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Credentials:
    """What `nats.connect` is given."""

    user: str | None = None
    password: str | None = None
    token: str | None = None
    creds_file: str | None = None
    inbox_prefix: str = "_INBOX"
    source: str = "none"
    """Where they came from, for log lines."""
    may_manage_resources: bool = True
    """False for the generated gateway and worker users, which may not create streams: a
    process connecting as one only checks that they exist (`up` creates them as admin)."""

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments of `nats.connect`."""
        options: dict[str, Any] = {"inbox_prefix": self.inbox_prefix}
        if self.creds_file:
            options["user_credentials"] = self.creds_file
        if self.token:
            options["token"] = self.token
        if self.user:
            options["user"] = self.user
            options["password"] = self.password or ""
        return options


def inbox_prefix(role: str) -> str:
    """The inbox prefix of a role's user (replies to one user are not visible to another)."""
    return f"_INBOX_{role}"


def read_role_file(auth_dir: Path, role: str) -> dict[str, str] | None:
    """The user and password of `role` in `auth_dir`, or None when there are none."""
    try:
        record = json.loads((auth_dir / f"{role}.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or "user" not in record:
        return None
    return {str(key): str(value) for key, value in record.items()}


def credentials_for(settings: Settings, role: str) -> Credentials:
    """The credentials a process of `role` (admin, gateway, worker) connects with."""
    if settings.nats_creds:
        return Credentials(creds_file=settings.nats_creds, source="PYOCO_NATS_CREDS")
    if settings.nats_token:
        return Credentials(token=settings.nats_token, source="PYOCO_NATS_TOKEN")
    if settings.nats_user:
        return Credentials(
            user=settings.nats_user, password=settings.nats_password, source="PYOCO_NATS_USER"
        )
    auth_dir = Path(settings.nats_auth_dir) if settings.nats_auth_dir else DEFAULT_AUTH_DIR
    record = read_role_file(auth_dir, role)
    if record is None:
        return Credentials()
    return Credentials(
        user=record["user"],
        password=record.get("password", ""),
        inbox_prefix=inbox_prefix(role),
        source=str(auth_dir / f"{role}.json"),
        may_manage_resources=role == "admin",
    )
