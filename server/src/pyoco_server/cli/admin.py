"""`pyoco-server-admin`: manage API keys, back up and restore, straight in NATS.

    pyoco-server-admin api-key create --tenant acme [--role admin] [--description "CI"]
    pyoco-server-admin api-key list [--tenant acme]
    pyoco-server-admin api-key revoke 3f2a...            (or the whole key, or --key-id 3f2a...)
    pyoco-server-admin backup DIR
    pyoco-server-admin restore DIR [--force]

Output is JSON on stdout. `create` prints the plaintext key, the only time it is ever shown;
only a keyed hash of it is stored, and no other command prints a secret, not even in an error. Failures are one line on stderr and exit code 1.
Like every other process, the CLI creates the NATS resources that are missing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from pyoco_server.domain import keys
from pyoco_server.domain.envparse import parse_modules
from pyoco_server.domain.errors import PyocoError, SettingsError
from pyoco_server.domain.records import ApiKey, Role
from pyoco_server.domain.settings import Settings
from pyoco_server.jetstream import NatsBackend, back_up, restore
from pyoco_server.services.keys import ApiKeyService

_PROG = "pyoco-server-admin"
_CONNECT_WAIT_SEC = 5.0
_RESTORE_WAIT_SEC = 30.0
"""A restore often targets a cluster just started, which takes seconds to place replicas."""

T = TypeVar("T")


class AdminError(Exception):
    """A failure the CLI reports as one line and exit code 1."""


async def _with_backend(
    settings: Settings,
    action: Callable[[NatsBackend], Awaitable[T]],
    wait: float = _CONNECT_WAIT_SEC,
) -> T:
    """Connect (waiting up to `wait` seconds for NATS and its resources), run `action`, close."""
    backend = NatsBackend(settings, _PROG, role="admin")
    await backend.start()
    try:
        if not await backend.wait_ready(wait):
            raise AdminError(_not_ready(backend, settings, wait))
        return await action(backend)
    finally:
        await backend.close()


def _keys(action: Callable[[ApiKeyService], Awaitable[T]]) -> Callable[[NatsBackend], Awaitable[T]]:
    """`action` on the API key service of a backend."""
    return lambda backend: action(ApiKeyService(backend.api_keys, backend.settings.auth_pepper))


def _not_ready(backend: NatsBackend, settings: Settings, wait: float) -> str:
    """Why the admin could not use NATS within its wait, and what to do."""
    if backend.connection.refused or backend.connection.answers:
        return backend.unavailable_reason()
    return (
        f"cannot reach NATS at {settings.nats_url} within {wait:g} s "
        "(is it running? pass --nats-url or set PYOCO_NATS_URL)"
    )


def _run(
    settings: Settings,
    action: Callable[[NatsBackend], Awaitable[T]],
    wait: float = _CONNECT_WAIT_SEC,
) -> T:
    try:
        return asyncio.run(_with_backend(settings, action, wait))
    except (AdminError, PyocoError) as exc:  # NATS down, a record that does not decode, ...
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    click.echo(f"{_PROG}: {message}", err=True)
    sys.exit(1)


def _print(value: object) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _tenant(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not keys.is_tenant_id(value):
        raise click.BadParameter(f"expected {keys.TENANT_RULE}")
    return value


def _task_modules(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    if value is None:
        return None
    try:
        return parse_modules(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _listed(record: ApiKey) -> dict[str, Any]:
    """What `list` shows of a record (never the salt or the hash)."""
    return {
        "key_id": record.key_id,
        "tenant_id": record.tenant_id,
        "role": record.role.value,
        "created_at": record.created_at,
        "revoked_at": record.revoked_at,
        "description": record.description,
        "task_modules": list(record.task_modules) if record.task_modules is not None else None,
        "submit_rate_per_sec": record.submit_rate_per_sec,
        "submit_burst": record.submit_burst,
    }


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--nats-url", help="NATS to use [env: PYOCO_NATS_URL; default nats://127.0.0.1:4222]."
)
@click.pass_context
def cli(ctx: click.Context, nats_url: str | None) -> None:
    """pyoco-server-admin: administer pyoco-server (API keys, backup and restore)."""
    environ = dict(os.environ)
    if nats_url:
        environ["PYOCO_NATS_URL"] = nats_url
    try:
        settings = Settings.from_env(environ)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    # Reconnect attempts and the like would only repeat what the CLI reports in one line.
    logging.basicConfig(level=logging.ERROR, format=f"{_PROG}: %(message)s")
    # The connection's own reports (JetStream not ready, and why) are the CLI's one-line error.
    logging.getLogger("pyoco_server.jetstream._connection").setLevel(logging.CRITICAL)
    ctx.obj = settings


@cli.command()
@click.pass_obj
def setup(settings: Settings) -> None:
    """Create (or bring in line with the settings) every stream, bucket and store.

    Needed once before gateways and workers whose NATS users may not create them start
    (`pyoco-server up` does it for its embedded NATS).
    """

    async def ready(_backend: NatsBackend) -> None:
        return None  # connecting as admin created and reconciled everything

    _run(settings.replace(nats_manage_resources=True), ready)
    _print({"nats_url": settings.nats_url, "resources": "ready"})


@cli.group("api-key")
def api_key() -> None:
    """Create, list and revoke API keys."""


@api_key.command()
@click.option("--tenant", required=True, callback=_tenant, help="The key's tenant id.")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.USER.value,
    show_default=True,
    help="admin keys may also use the workers, dead-letter and metrics operations.",
)
@click.option("--description", help="A note for people (who or what uses the key).")
@click.option(
    "--task-modules",
    metavar="MODULES",
    callback=_task_modules,
    help="Comma-separated modules: runs submitted with this key may use task callables from "
    "these only (within what the workers allow)  [default: no narrowing]",
)
@click.option(
    "--submit-rate-per-sec",
    type=click.FloatRange(min=0, min_open=True, max=1e9),
    help="The key's own submit rate limit, in its own token bucket, instead of its tenant's "
    "PYOCO_SUBMIT_RATE_PER_SEC  [default: the tenant's]",
)
@click.option(
    "--submit-burst",
    type=click.IntRange(min=1),
    help="With --submit-rate-per-sec: submits the key may make at once  "
    "[default: PYOCO_SUBMIT_BURST]",
)
@click.pass_obj
def create(
    settings: Settings,
    tenant: str,
    role: str,
    description: str | None,
    task_modules: tuple[str, ...] | None,
    submit_rate_per_sec: float | None,
    submit_burst: int | None,
) -> None:
    """Create a key and print it (the only time the plaintext key is shown)."""
    if submit_burst is not None and submit_rate_per_sec is None:
        raise click.UsageError("--submit-burst needs --submit-rate-per-sec")
    limit = keys.SubmitLimit(submit_rate_per_sec, submit_burst)
    plaintext, record = _run(
        settings,
        _keys(lambda service: service.create(tenant, Role(role), description, task_modules, limit)),
    )
    _print({**_listed(record), "api_key": plaintext})


@api_key.command("list")
@click.option("--tenant", callback=_tenant, help="Only this tenant's keys.")
@click.pass_obj
def list_keys(settings: Settings, tenant: str | None) -> None:
    """Print the keys, newest first (without their hashes)."""
    records = _run(settings, _keys(lambda service: service.list(tenant)))
    _print([_listed(record) for record in records])


@api_key.command()
@click.argument("key", required=False, metavar="KEY")
@click.option("--key-id", help="The key's id (the part between `pyoco_` and the dot), or KEY.")
@click.pass_obj
def revoke(settings: Settings, key: str | None, key_id: str | None) -> None:
    """Revoke KEY: a key id, or the whole key (pyoco_<id>.<secret>).

    Every gateway refuses the key within a second; revoking twice is harmless. The secret of a
    whole key is never printed.
    """
    wanted = _key_id_of(_one_key(key, key_id))
    record = None
    if keys.is_key_id(wanted):
        record = _run(settings, _keys(lambda service: service.revoke(wanted)))
    if record is None:
        _fail(f"no API key has id {wanted!r}; `{_PROG} api-key list` shows the keys")
    _print({"key_id": record.key_id, "revoked_at": record.revoked_at})


def _one_key(key: str | None, key_id: str | None) -> str:
    """The key given as KEY or --key-id (once, or twice naming the same key)."""
    if key is None and key_id is None:
        raise click.UsageError("name the key to revoke: its id (`api-key list`) or the whole key")
    if key is not None and key_id is not None and _key_id_of(key) != _key_id_of(key_id):
        raise click.UsageError("KEY and --key-id name different keys; give one")
    return key if key is not None else str(key_id)


def _key_id_of(given: str) -> str:
    """The key id in `given`: a key id, or a whole key (whose secret is dropped here).

    Anything after the dot of a text starting `pyoco_` is taken for a secret and never kept, so
    that a mistyped key is not printed back.
    """
    if given.startswith(keys.KEY_PREFIX) and "." in given:
        return given.removeprefix(keys.KEY_PREFIX).split(".", 1)[0]
    return given


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.pass_obj
def backup(settings: Settings, directory: Path) -> None:
    """Back the deployment up into DIRECTORY (new, or empty).

    Writes the latest value of every key of the runs, API-key, wheel-index and workflow
    buckets, every wheel, the dead letters, the wheel history and the jobs still queued, with
    a manifest.json written last. Left out: worker records and Idempotency-Key records
    (short-lived, rewritten by the running deployment) and task logs. Stop gateways and
    workers first for a consistent copy. Prints a one-line JSON summary.
    """
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        _fail(f"{directory} is not an empty directory; back up into a new directory")
    manifest = _run(settings, lambda backend: back_up(backend.connection, directory))
    summary = {"backup": str(directory), "source": manifest["source"], "counts": manifest["counts"]}
    click.echo(json.dumps(summary, ensure_ascii=False))


@cli.command("restore")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--force", is_flag=True, help="Restore even if the target already holds runs.")
@click.pass_obj
def restore_command(settings: Settings, directory: Path, force: bool) -> None:
    """Restore the backup in DIRECTORY into the NATS of --nats-url / PYOCO_NATS_URL.

    Creates the resources first, with PYOCO_JS_REPLICAS replicas when set (so a backup of one
    server restores into a cluster as replicated resources), then puts back every wheel, key
    and stream message. Refuses a target that already holds runs unless --force. Run again
    with --force after an interruption: stream messages already restored in the last two
    minutes are not stored twice (older ones would be). Prints a one-line JSON summary.
    """
    manage = settings.replace(nats_manage_resources=True)
    summary = _run(
        manage,
        lambda backend: restore(backend.connection, directory, force=force),
        _RESTORE_WAIT_SEC,
    )
    click.echo(json.dumps(summary, ensure_ascii=False))


def main() -> None:
    """Console entry point."""
    cli.main(prog_name=_PROG)


if __name__ == "__main__":
    main()
