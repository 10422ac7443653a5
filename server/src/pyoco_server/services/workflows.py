"""The flow.yaml files runs were submitted with, kept for re-runs in the `pyoco_workflows` bucket.

A file is stored under the SHA-256 of its bytes when a run is submitted with it, so however many
runs use it, it is stored once. Each gateway process remembers the files it stored (a bounded
set), so a file costs one write per process, not one per submit, and stores it again once a tenth
of the runs' retention has passed since, which restarts the bucket's max age for it: a file in
use never expires before the runs that used it. Storing is best effort: a run does not need the
stored copy (its job carries the text), only a later re-run does, which then says the file is
gone (409 `workflow_not_stored`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pyoco_server.domain.errors import BackendUnavailable
from pyoco_server.domain.workflow import Workflow
from pyoco_server.ports import WorkflowStore

log = logging.getLogger(__name__)

KNOWN_MAX = 10_000
"""Files a gateway process remembers having stored (the oldest are forgotten first)."""


class WorkflowTexts:
    """Stores submitted flow.yaml files once per process and reads them back."""

    def __init__(
        self,
        store: WorkflowStore,
        retention_sec: float,
        *,
        known_max: int = KNOWN_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._refresh_sec = retention_sec / 10
        self._known_max = known_max
        self._clock = clock
        self._stored: dict[str, float] = {}
        """SHA-256 -> when this process stored it (oldest first)."""

    def needs_storing(self, workflow: Workflow) -> bool:
        """True when this process has not stored the file lately (a dict lookup)."""
        stored = self._stored.get(workflow.sha256)
        return stored is None or self._clock() - stored >= self._refresh_sec

    async def keep(self, workflow: Workflow) -> None:
        """Store the file unless this process did lately; a failure is logged, not raised."""
        if not self.needs_storing(workflow):
            return
        sha256 = workflow.sha256
        self._remember(sha256)  # before the write, so concurrent submits write it once
        stored = False
        try:
            await self._store.put(sha256, workflow.text.encode())
            stored = True
        except BackendUnavailable as exc:
            log.warning(
                "flow.yaml %s not stored for re-runs (its run is submitted all the same): %s",
                sha256,
                exc,
            )
        finally:
            if not stored:  # failed or cancelled: the next submit of the file tries again
                self._stored.pop(sha256, None)

    async def raw(self, sha256: str) -> bytes | None:
        """The stored file's bytes, or None when it is not (or no longer) stored."""
        return await self._store.get(sha256)

    def _remember(self, sha256: str) -> None:
        self._stored.pop(sha256, None)
        self._stored[sha256] = self._clock()
        while len(self._stored) > self._known_max:
            del self._stored[next(iter(self._stored))]
