"""What the two schemathesis modules share: hypothesis settings and the app under test.

The schema is loaded at import, from the spec as the gateway serves it (no port is needed for
that); the app is built by a module-scoped fixture, on a nats-server with a random port, and
kept in a `Served` the tests (and the state machine, which hypothesis builds, not pytest) read.

A schema loaded from a dict has no app, so schemathesis would send the requests of its own
checks (the `ignored_auth` probes) over the network; `in_process` makes it send them in-process,
to the app the tests pass on each call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from pyoco_server.domain.settings import Settings
from pyoco_server.gateway import create_app
from pyoco_server.gateway._connexion import GatewayApp
from pyoco_server.jetstream import NatsBackend
from pyoco_server.local.natsserver import NatsServer

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS_TOML = ROOT / "schemathesis.toml"

EXAMPLES = hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=list(HealthCheck)
)
"""Per-operation phases (examples, coverage, fuzzing)."""

STATEFUL = hypothesis_settings(
    max_examples=30, stateful_step_count=6, deadline=None, suppress_health_check=list(HealthCheck)
)
"""The stateful phase (sequences of linked operations)."""


class Served:
    """The app under test, once the module's fixture has built it (an ASGI app forwarding to it)."""

    def __init__(self) -> None:
        self._app: GatewayApp | None = None

    @property
    def app(self) -> GatewayApp:
        assert self._app is not None, "the module's app fixture has not run"
        return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def in_process(self, schema: schemathesis.BaseSchema) -> schemathesis.BaseSchema:
        """`schema`, sending every request in-process (to the app the call names, or to this)."""
        schema.app = self
        return schema

    @contextmanager
    def gateway(
        self,
        store: Path,
        settings_for: Callable[[str], Settings],
        prepare: Callable[[Settings], None] | None = None,
    ) -> Iterator[GatewayApp]:
        """nats-server (random port, store in `store`) and the gateway on it, response validation
        on; `settings_for(url)` gives the gateway's settings, `prepare(settings)` runs once NATS
        is up and before the app is built."""
        with NatsServer(store) as server:
            settings = settings_for(server.url)
            if prepare is not None:
                prepare(settings)
            self._app = create_app(
                settings, NatsBackend(settings, "pyoco-contract-tests"), validate_responses=True
            )
            try:
                yield self._app
            finally:
                self._app = None
