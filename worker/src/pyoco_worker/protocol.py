"""The messages between the worker and a run process, as typed values.

Two pipes connect them (see child.py). On the job pipe the worker sends `RunJob`; the run
process answers `Ready` once started, `ProgressReport` when asked, and `Finished` when the run
ended. On the control pipe the worker sends `Cancel` and `ProgressRequest`, which the run process
reads in a helper thread while pyoco runs.
"""

from __future__ import annotations

import dataclasses

from pyoco_server.domain.records import Job
from pyoco_worker.execution import NO_CODE, Installed, Outcome, Progress


@dataclasses.dataclass(frozen=True, slots=True)
class RunJob:
    """Worker → run process: run this job, with these registry wheels."""

    job: Job
    installed: Installed = NO_CODE


@dataclasses.dataclass(frozen=True, slots=True)
class Ready:
    """Run process → worker: started, waiting for a job."""


@dataclasses.dataclass(frozen=True, slots=True)
class ProgressReport:
    """Run process → worker: the task states and records of `run_id` so far."""

    run_id: str
    progress: Progress


@dataclasses.dataclass(frozen=True, slots=True)
class Finished:
    """Run process → worker: the run ended so."""

    outcome: Outcome


@dataclasses.dataclass(frozen=True, slots=True)
class Cancel:
    """Worker → run process (control): ask pyoco to stop `run_id`."""

    run_id: str


@dataclasses.dataclass(frozen=True, slots=True)
class ProgressRequest:
    """Worker → run process (control): send a `ProgressReport` of `run_id` if it changed."""

    run_id: str


FromChild = Ready | ProgressReport | Finished
"""What a run process sends on the job pipe."""

Control = Cancel | ProgressRequest
"""What the worker sends on the control pipe."""
