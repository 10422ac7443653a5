"""The JetStream adapter: the only package that imports `nats`.

`NatsBackend` provides every port of `pyoco_server.ports` on one connection; the gateway, the
worker and the admin CLI each build one at their edge. The modules are private: each implements
one port (`_run_store`, `_job_queue`, `_dead_letters`, ...), `_connection` connects and
reconnects, `_resources` creates and reconciles the streams and buckets, `_backup` and `_restore` copy
them to and from a directory (`_archive`).
"""

from pyoco_server.jetstream import _headers
from pyoco_server.jetstream._backend import NatsBackend
from pyoco_server.jetstream._backup import back_up
from pyoco_server.jetstream._connection import Connection
from pyoco_server.jetstream._credentials import (
    DEFAULT_AUTH_DIR,
    Credentials,
    credentials_for,
    inbox_prefix,
)
from pyoco_server.jetstream._resources import ensure_resources
from pyoco_server.jetstream._restore import restore

_headers.install()

__all__ = [
    "DEFAULT_AUTH_DIR",
    "Connection",
    "Credentials",
    "NatsBackend",
    "back_up",
    "credentials_for",
    "ensure_resources",
    "inbox_prefix",
    "restore",
]
