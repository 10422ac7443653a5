"""The worker registry record: what a worker says about itself in the `pyoco_workers` bucket."""

from __future__ import annotations

import dataclasses
import enum


class WorkerState(enum.StrEnum):
    """State of a worker (openapi.yaml `WorkerState`); workers never store DISCONNECTED."""

    RUNNING = "RUNNING"
    IDLE = "IDLE"
    STOPPED_GRACEFUL = "STOPPED_GRACEFUL"
    DISCONNECTED = "DISCONNECTED"


@dataclasses.dataclass(frozen=True, slots=True)
class WorkerRecord:
    """A worker's registry record (openapi.yaml `WorkerRecord`)."""

    worker_id: str
    instance_id: str
    state: WorkerState
    hidden: bool
    tags: tuple[str, ...]
    concurrency: int
    current_run_ids: tuple[str, ...]
    started_at: float
    last_seen_at: float
    updated_at: float
    stopped_at: float | None = None
    stop_reason: str | None = None
    hostname: str | None = None
    pid: int | None = None
    version: str | None = None
    runs_completed: int = 0
    runs_failed: int = 0
    last_run_id: str | None = None
    last_run_status: str | None = None
    last_run_finished_at: float | None = None

    def shown_state(self, now: float, disconnect_timeout: float) -> WorkerState:
        """The state to show: DISCONNECTED when a live-looking record went stale."""
        if self.state in (WorkerState.STOPPED_GRACEFUL, WorkerState.DISCONNECTED):
            return self.state
        if now - self.last_seen_at > disconnect_timeout:
            return WorkerState.DISCONNECTED
        return self.state

    def shown(self, now: float, disconnect_timeout: float) -> WorkerRecord:
        """The record with its shown state."""
        state = self.shown_state(now, disconnect_timeout)
        return self if state is self.state else dataclasses.replace(self, state=state)
