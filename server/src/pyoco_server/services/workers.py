"""The worker registry as the gateway shows it: derived states, filters, hiding a worker.

Workers write their own records; the gateway only reads them and sets `hidden`. The state
shown is derived (`WorkerRecord.shown`): a live-looking record not written for
PYOCO_WORKER_DISCONNECT_TIMEOUT_SEC is DISCONNECTED.
"""

from __future__ import annotations

import dataclasses
import enum
import time
from collections.abc import Callable

from pyoco_server.domain import names
from pyoco_server.domain.cas import compare_and_set
from pyoco_server.domain.errors import (
    InvalidInput,
    WorkerNotFound,
)
from pyoco_server.domain.records import WorkerRecord, WorkerState
from pyoco_server.domain.settings import Settings
from pyoco_server.ports import WorkerRegistry

_ACTIVE = frozenset({WorkerState.RUNNING, WorkerState.IDLE})


class Scope(enum.StrEnum):
    """Which workers a listing covers (openapi.yaml `GET /workers` `scope`)."""

    ACTIVE = "active"
    """RUNNING and IDLE workers."""
    ALL = "all"
    """Every kept record."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Filter:
    """What a listing keeps."""

    scope: Scope
    state: WorkerState | None
    include_hidden: bool

    def keeps(self, record: WorkerRecord) -> bool:
        """True when the (shown) record passes the filter."""
        if record.hidden and not self.include_hidden:
            return False
        if self.scope is Scope.ACTIVE and record.state not in _ACTIVE:
            return False
        return self.state is None or record.state is self.state


class WorkerService:
    """Lists worker records with their shown state and hides or shows a worker."""

    def __init__(
        self,
        registry: WorkerRegistry,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._registry = registry
        self._disconnect_timeout = settings.worker_disconnect_timeout_sec
        self._clock = clock

    async def list(
        self,
        *,
        scope: Scope = Scope.ACTIVE,
        state: WorkerState | None = None,
        include_hidden: bool = False,
        limit: int = 100,
    ) -> tuple[WorkerRecord, ...]:
        """Shown records, newest `last_seen_at` first (then by id), at most `limit`.

        `scope` and `state` filter on the shown state; hidden workers are left out unless
        `include_hidden`.
        """
        wanted = _Filter(scope, state, include_hidden)
        now = self._clock()
        shown = [
            record.shown(now, self._disconnect_timeout) for record in await self._registry.all()
        ]
        kept = sorted(filter(wanted.keeps, shown), key=_newest_first)
        return tuple(kept[:limit])

    async def set_hidden(self, worker_id: str, hidden: bool) -> WorkerRecord:
        """Set the worker's `hidden` flag; its shown record after the change.

        The write is a compare-and-set retried on conflict, so a worker's heartbeat landing
        in between is kept, not overwritten.
        """
        _check_worker_id(worker_id)

        async def attempt() -> WorkerRecord:
            stored = await self._registry.get(worker_id)
            if stored is None:
                raise WorkerNotFound(worker_id)
            changed = dataclasses.replace(stored.record, hidden=hidden, updated_at=self._clock())
            await self._registry.put(changed, stored.revision)
            return changed

        changed = await compare_and_set(attempt, what=f"worker {worker_id}")
        return changed.shown(self._clock(), self._disconnect_timeout)


def _newest_first(record: WorkerRecord) -> tuple[float, str]:
    return -record.last_seen_at, record.worker_id


def _check_worker_id(worker_id: str) -> None:
    # Connexion checks the pattern with re.search, whose `$` lets a trailing newline through.
    if not names.is_worker_id(worker_id):
        raise InvalidInput(f"{worker_id!r} is not a worker id: {names.WORKER_ID_RULE}")
