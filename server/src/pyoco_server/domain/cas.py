"""The compare-and-set loop every read-modify-write of a stored record goes through.

Records in NATS key-value buckets are never written blindly: a write names the revision it read,
and loses (`RevisionConflict`) when someone wrote in between. The loser reads again and re-applies
its change on top. `compare_and_set` runs that loop, bounded, so that a record that never stops
changing ends in a clear error instead of a spin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pyoco_server.domain.errors import RevisionConflict, StaleAttempt, TooManyConflicts

T = TypeVar("T")

MAX_CONFLICTS = 16
"""Lost writes in a row after which a change gives up."""


async def compare_and_set(
    attempt: Callable[[], Awaitable[T]], *, what: str, attempts: int = MAX_CONFLICTS
) -> T:
    """Run `attempt` (read, change, write) until its write does not lose; its result.

    `attempt` raises `RevisionConflict` when its write lost; anything else it raises ends the
    loop (`StaleAttempt` included: a writer fenced out must stop, not retry). After `attempts` lost writes in a row the change is given up.

    Raises:
        TooManyConflicts: `what` kept changing (a `BackendUnavailable`: retry later).
    """
    for _ in range(attempts):
        try:
            return await attempt()
        except StaleAttempt:
            raise
        except RevisionConflict:
            continue
    raise TooManyConflicts(f"{what} kept changing; retry shortly", retry_after=1)
