"""What the two schemathesis modules share: hypothesis settings and the module's nats-server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

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


@contextmanager
def nats_on_port(
    store: Path, port: int, prepare: Callable[[str], None] | None = None
) -> Iterator[NatsServer]:
    """nats-server on the port the module's app was built for; `prepare(url)` runs once it is up."""
    with NatsServer(store, port=port) as server:
        if prepare is not None:
            prepare(server.url)
        yield server
