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


@dataclasses.dataclass(frozen=True, slots=True)
class WorkerPage:
    """One page of the registry (openapi.yaml `WorkerPage`)."""

    items: tuple[WorkerRecord, ...]
    next_cursor: str | None
    """The last worker id of the page when more follow, else None."""


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
        cursor: str | None = None,
    ) -> WorkerPage:
        """A page of shown records in worker id order: at most `limit`, after `cursor`.

        `scope` and `state` filter on the shown state; hidden workers are left out unless
        `include_hidden`. The order is by worker id, which heartbeats do not change, so paging
        never skips or repeats a worker; the cursor is the last id of the previous page.

        Raises:
            InvalidInput: `cursor` is not a cursor this service issued.
        """
        if cursor is not None:
            _check_cursor(cursor)
        wanted = _Filter(scope, state, include_hidden)
        now = self._clock()
        shown = [
            record.shown(now, self._disconnect_timeout) for record in await self._registry.all()
        ]
        kept = sorted(
            (
                record
                for record in shown
                if wanted.keeps(record) and (cursor is None or record.worker_id > cursor)
            ),
            key=lambda record: record.worker_id,
        )
        page = tuple(kept[:limit])
        more = len(kept) > limit
        return WorkerPage(page, page[-1].worker_id if more and page else None)

    async def set_hidden(self, worker_id: str, hidden: bool) -> WorkerRecord:
        """Set the worker's `hidden` flag; its shown record after the change.

        The write is a compare-and-set retried on conflict, so a worker's heartbeat landing
        in between is kept, not overwritten.
        """
        _check_worker_id(worker_id)

        async def attempt() -> WorkerRecord:
            # An id with an empty dot-separated token fits the pattern but is no bucket key.
            empty_token = "" in worker_id.split(".")
            stored = None if empty_token else await self._registry.get(worker_id)
            if stored is None:
                raise WorkerNotFound(worker_id)
            changed = dataclasses.replace(stored.record, hidden=hidden, updated_at=self._clock())
            await self._registry.put(changed, stored.revision)
            return changed

        changed = await compare_and_set(attempt, what=f"worker {worker_id}")
        return changed.shown(self._clock(), self._disconnect_timeout)


def _check_cursor(cursor: str) -> None:
    if not names.is_worker_id(cursor):
        raise InvalidInput(
            f"cursor {cursor[:40]!r} is not one GET /workers gave; pass the previous page's "
            "next_cursor"
        )


def _check_worker_id(worker_id: str) -> None:
    # Connexion checks the pattern with re.search, whose `$` lets a trailing newline through.
    if not names.is_worker_id(worker_id):
        raise InvalidInput(f"{worker_id!r} is not a worker id: {names.WORKER_ID_RULE}")
