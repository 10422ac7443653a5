"""A `JobRunner` on the memory backend, for the runner's unit tests.

The runner's store, dead letters and (through the fakes) its executor and deliveries all log to
the backend's `events`, so a test sees the order of writes, queue actions and dead letters in one
list. `traced=True` also logs the runner's reads of the store ("get") and what its observer is
told ("started <run>", "ended <run> <status>").
"""

from __future__ import annotations

import asyncio
import dataclasses

from pyoco_server.domain.codec import JOB
from pyoco_server.domain.errors import BackendUnavailable
from pyoco_server.domain.records import Job
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus
from pyoco_server.domain.subjects import Subjects
from pyoco_server.memory import MemoryBackend, MemoryDeadLetters, MemoryRunStore
from pyoco_server.services.exhaustion import MaxDeliveriesHandler
from pyoco_worker.execution import Outcome
from pyoco_worker.runner import JobRunner
from tests.support.fakes import COMPLETED, FakeDelivery, FakeExecutor, RecordingObserver, Spy
from tests.support.memory import backend_with
from tests.support.samples import A_JOB, NOW


@dataclasses.dataclass
class RunnerHarness:
    """A runner (worker "w1", clock at `NOW`) and what it works on."""

    backend: MemoryBackend
    reads: Spy
    """The runner's run store: the backend's, seen through a spy."""
    executor: FakeExecutor
    observer: RecordingObserver | None
    runner: JobRunner

    @property
    def store(self) -> MemoryRunStore:
        return self.backend.runs

    @property
    def dead_letters(self) -> MemoryDeadLetters:
        return self.backend.dead_letters

    @property
    def log(self) -> list[str]:
        return self.backend.events

    @property
    def gets(self) -> int:
        """How many times the runner read the store."""
        return len(self.reads.calls_to("get"))

    def delivery(
        self,
        data: bytes | None = None,
        *,
        subject: str = "pyoco.work.default",
        attempt: int = 1,
        nak_error: BackendUnavailable | None = None,
    ) -> FakeDelivery:
        """A delivery of `data` (default: `A_JOB`) that logs to the events."""
        raw = JOB.encode(A_JOB) if data is None else data
        return FakeDelivery(raw, self.log, subject, attempt, nak_error)

    def deliver(self, delivery: FakeDelivery) -> RunStatus | None:
        """Let the runner handle `delivery` to the end."""
        return asyncio.run(asyncio.wait_for(self.runner.handle(delivery), 10.0))

    def handle(self, job: Job, *, attempt: int = 1) -> RunStatus | None:
        """Let the runner handle delivery `attempt` of `job`."""
        return self.deliver(self.delivery(JOB.encode(job), attempt=attempt))

    def clear(self) -> None:
        """Forget the events so far."""
        self.log.clear()


def runner_harness(
    *snapshots: RunSnapshot,
    outcome: Outcome = COMPLETED,
    settings: Settings | None = None,
    traced: bool = False,
) -> RunnerHarness:
    """A runner on a memory backend holding `snapshots`, its executor returning `outcome`."""
    backend = backend_with(*snapshots, settings=settings or Settings())
    reads = Spy(backend.runs)
    observer = RecordingObserver(backend.events) if traced else None
    if traced:
        reads.before["get"] = lambda run_id: backend.events.append("get")
    executor = FakeExecutor(outcome, backend.events)
    exhaustion = MaxDeliveriesHandler(
        reads,
        backend.dead_letters,
        backend.work,
        Subjects.from_settings(backend.settings),
        clock=lambda: NOW,
    )
    runner = JobRunner(
        store=reads,
        dead_letters=backend.dead_letters,
        executor=executor,
        settings=backend.settings,
        worker_id="w1",
        observer=observer,
        exhaustion=exhaustion,
        clock=lambda: NOW,
    )
    return RunnerHarness(backend, reads, executor, observer, runner)
