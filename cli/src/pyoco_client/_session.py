"""The connection options of `pyoco-client`, before or after the command, and its one `Client`.

    pyoco-client --server URL get RUN_ID    (before the command, as the original CLI took them)
    pyoco-client get RUN_ID --server URL    (after it: every command accepts them too)

The group reads the options (with their defaults and environment variables) into a `Session`.
`accept_after_commands` gives every command of the tree the same options, without defaults or
environment; one given there replaces the group's. The `Client` is built when a command first
asks for it (`pass_client`), once all the options are known, and closed with the session.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from pyoco_client._client import Client
from pyoco_client._inputs import server_url

R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_SERVER = "http://127.0.0.1:8000"


@dataclass
class Session:
    """The connection options in force, and the client built from them on first use."""

    server: str
    api_key: str | None
    api_key_header: str
    timeout: float
    debug: bool
    _client: Client | None = field(default=None, init=False, repr=False)

    def client(self) -> Client:
        """The client for these options (built once; the server URL is checked then).

        Raises:
            InputError: `server` is not an http(s) URL.
        """
        if self._client is None:
            url = server_url(self.server)
            self._client = Client(url, self.api_key, self.api_key_header, self.timeout)
        return self._client

    def close(self) -> None:
        """Close the client, if one was built."""
        if self._client is not None:
            self._client.close()


_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any], dict[str, Any]]] = [
    (
        ("--server",),
        {"help": "URL of the pyoco-server gateway."},
        {"envvar": "PYOCO_SERVER_URL", "default": DEFAULT_SERVER, "show_envvar": True},
    ),
    (
        ("--api-key",),
        {"help": "API key, for a server that requires one."},
        {"envvar": "PYOCO_API_KEY", "show_envvar": True},
    ),
    (
        ("--api-key-header",),
        {"help": "Header that carries the API key."},
        {"default": "X-API-Key"},
    ),
    (
        ("--timeout",),
        {
            "type": click.FloatRange(0, min_open=True),
            "help": "Seconds to wait for the server to connect and answer (watches have no "
            "read limit).",
        },
        {"default": 30.0},
    ),
    (("--debug",), {"is_flag": True, "help": "Show the traceback of an error."}, {}),
]
"""Each connection option: its flags, what the group and commands share, what only the group
has (defaults, environment variables)."""


def connection_options(command: F) -> F:
    """Decorate the group with the connection options, defaults and environment included."""
    for flags, shared, group_only in reversed(_OPTIONS):
        show_default = "default" in group_only
        command = click.option(*flags, **shared, **group_only, show_default=show_default)(command)
    return command


def accept_after_commands(group: click.Group) -> None:
    """Give every command under `group` (nested groups included) the connection options.

    A command that has them already (an alias of another) is left as it is.
    """
    for command in group.commands.values():
        if not any(param.name == "server" for param in command.params):
            command.params.extend(
                click.Option(flags, **shared, expose_value=False, callback=_override)
                for flags, shared, _ in _OPTIONS
            )
        if isinstance(command, click.Group):
            accept_after_commands(command)


def _override(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """A connection option given after the command: it replaces the group's value."""
    if value is not None and value is not False and param.name is not None:
        setattr(session_of(ctx), param.name, value)


def session_of(ctx: click.Context) -> Session:
    """The session of the command line `ctx` belongs to."""
    session = ctx.find_object(Session)
    if session is None:
        raise RuntimeError("pyoco-client commands run under the pyoco-client group")
    return session


def pass_client(command: Callable[..., R]) -> Callable[..., R]:
    """Call the command with the session's `Client` as its first argument (as click.pass_obj)."""

    @functools.wraps(command)
    def with_client(*args: Any, **kwargs: Any) -> R:
        client = session_of(click.get_current_context()).client()
        return command(client, *args, **kwargs)

    return with_client
