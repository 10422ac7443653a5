"""RunService.cancel: compare-and-set cancel with a notice to the worker, on fakes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from pyoco_server.errors import BackendUnavailable, InvalidInput, RunNotFound
from pyoco_server.messages import CancelNotice, Job
from pyoco_server.runs import RunService
from pyoco_server.settings import Settings
from pyoco_server.snapshot import RunSnapshot, RunStatus
from tests.worker.test_snapshots import FakeRunStore

T = TypeVar("T")
NOW = 700.0
RUN_ID = "run-1"
JOB = Job(RUN_ID, "main", "default", ("default",), {"x": 1}, 1.0)
PENDING = RunSnapshot.pending(JOB)
RUNNING = PENDING.claimed("w1", 1, 10.0)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


class RecordingNotifier:
    """A `CancelNotifier` that keeps the notices (or raises `error` when set)."""

    def __init__(self, error: BackendUnavailable | None = None) -> None:
        self.notices: list[CancelNotice] = []
        self.error = error

    async def notify(self, notice: CancelNotice) -> None:
        self.notices.append(notice)
        if self.error is not None:
            raise self.error


class UnusedQueue:
    """A `JobQueue` that a cancel must never use."""

    async def publish(self, job: Job, msg_id: str | None = None) -> None:
        raise AssertionError("cancel published a job")


class InterferingRunStore(FakeRunStore):
    """A run store where another writer lands `interfere()` just before our next `times` updates."""

    def __init__(self, *snapshots: RunSnapshot, times: int = 1) -> None:
        super().__init__(*snapshots)
        self.interfere: Callable[[RunSnapshot], RunSnapshot] = lambda current: current
        self.times = times
        self.gets = 0

    async def get(self, run_id: str) -> Any:
        self.gets += 1
        return await super().get(run_id)

    async def update(self, snapshot: RunSnapshot, revision: int) -> int:
        if self.times > 0:
            self.times -= 1
            self.put(self.interfere(self.current(snapshot.run_id)))
        return await super().update(snapshot, revision)


def service(store: FakeRunStore, notifier: RecordingNotifier | None = None) -> RunService:
    return RunService(store, UnusedQueue(), Settings(), notifier=notifier, clock=lambda: NOW)


def cancel(
    store: FakeRunStore,
    notifier: RecordingNotifier | None = None,
    *,
    run_id: str = RUN_ID,
    requested_by: str | None = "alice",
    reason: str | None = "not needed",
) -> RunSnapshot:
    return run(service(store, notifier).cancel(run_id, requested_by=requested_by, reason=reason))


def test_a_pending_run_is_cancelled_without_a_notice() -> None:
    store = FakeRunStore(PENDING)
    notifier = RecordingNotifier()

    result = cancel(store, notifier)

    assert result.status is RunStatus.CANCELLED
    assert result.error_reason == "cancelled"
    assert (result.cancel_requested_at, result.cancel_requested_by, result.cancel_reason) == (
        NOW,
        "alice",
        "not needed",
    )
    assert store.current() == result
    assert len(store.writes) == 1
    assert notifier.notices == []


def test_a_running_run_becomes_cancelling_with_one_notice() -> None:
    store = FakeRunStore(RUNNING)
    notifier = RecordingNotifier()

    result = cancel(store, notifier, requested_by="address:10.0.0.1", reason="too slow")

    assert result.status is RunStatus.CANCELLING
    assert store.current() == result
    assert notifier.notices == [
        CancelNotice(
            run_id=RUN_ID, requested_at=NOW, requested_by="address:10.0.0.1", reason="too slow"
        )
    ]


def test_a_notice_without_requester_or_reason() -> None:
    notifier = RecordingNotifier()

    cancel(FakeRunStore(RUNNING), notifier, requested_by=None, reason=None)

    assert notifier.notices == [CancelNotice(RUN_ID, NOW, None, None)]


def test_a_cancel_without_a_notifier_still_marks_the_run() -> None:
    store = FakeRunStore(RUNNING)

    assert cancel(store, None).status is RunStatus.CANCELLING
    assert store.current().status is RunStatus.CANCELLING


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED])
def test_an_ended_run_is_returned_unchanged_without_a_write(status: RunStatus) -> None:
    ended = RUNNING.finished(status, 20.0)
    store = FakeRunStore(ended)
    notifier = RecordingNotifier()

    result = cancel(store, notifier)

    assert result == ended
    assert store.writes == []
    assert store.current() == ended
    assert notifier.notices == []


def test_a_repeated_cancel_keeps_the_first_request_and_sends_no_second_notice() -> None:
    store = FakeRunStore(RUNNING)
    notifier = RecordingNotifier()
    first = cancel(store, notifier, requested_by="alice", reason="first")

    again = cancel(store, notifier, requested_by="bob", reason="second")

    assert again == first
    assert (again.cancel_requested_by, again.cancel_reason) == ("alice", "first")
    assert len(store.writes) == 1
    assert len(notifier.notices) == 1


def test_a_conflicting_write_is_retried_and_the_cancel_lands() -> None:
    store = InterferingRunStore(RUNNING)
    store.interfere = lambda current: current.heartbeat(650.0)
    notifier = RecordingNotifier()

    result = cancel(store, notifier)

    assert store.conflicts == 1
    assert store.gets == 2, "the run was read again after the lost write"
    assert result.status is RunStatus.CANCELLING
    assert result.heartbeat_at == 650.0, "the cancel is applied on top of the concurrent write"
    assert store.current() == result
    assert len(notifier.notices) == 1


def test_a_run_that_ends_during_the_cancel_is_returned_as_ended() -> None:
    store = InterferingRunStore(RUNNING)
    store.interfere = lambda current: current.finished(RunStatus.COMPLETED, 650.0)
    notifier = RecordingNotifier()

    result = cancel(store, notifier)

    assert result.status is RunStatus.COMPLETED
    assert result.cancel_requested_at is None
    assert store.current() == result
    assert notifier.notices == []


def test_a_run_that_keeps_changing_gives_up_with_backend_unavailable() -> None:
    store = InterferingRunStore(RUNNING, times=10_000)
    store.interfere = lambda current: current.heartbeat(current.heartbeat_at or 0.0)
    notifier = RecordingNotifier()

    with pytest.raises(BackendUnavailable, match="kept changing") as raised:
        cancel(store, notifier)

    assert raised.value.retry_after == 1
    assert store.conflicts == 16
    assert store.current().status is RunStatus.RUNNING
    assert notifier.notices == []


def test_a_failing_notice_does_not_fail_the_cancel(caplog: pytest.LogCaptureFixture) -> None:
    store = FakeRunStore(RUNNING)
    notifier = RecordingNotifier(BackendUnavailable("NATS is down"))

    with caplog.at_level(logging.WARNING, logger="pyoco_server.runs"):
        result = cancel(store, notifier)

    assert result.status is RunStatus.CANCELLING
    assert store.current().status is RunStatus.CANCELLING
    assert len(notifier.notices) == 1
    assert "cancel notice not sent" in caplog.text


def test_an_unknown_run_is_not_found() -> None:
    store = FakeRunStore(RUNNING)

    with pytest.raises(RunNotFound) as raised:
        cancel(store, run_id="run-2")

    assert raised.value.run_id == "run-2"
    assert store.writes == []


@pytest.mark.parametrize("run_id", ["run 1", "run-1\n", "../etc", "", "x" * 65, "run.1"])
def test_a_malformed_run_id_is_invalid_input(run_id: str) -> None:
    store = InterferingRunStore(RUNNING)

    with pytest.raises(InvalidInput):
        cancel(store, run_id=run_id)

    assert store.gets == 0
    assert store.writes == []


def test_a_backend_outage_propagates() -> None:
    store = FakeRunStore(RUNNING)
    store.unavailable = BackendUnavailable("NATS is down")

    with pytest.raises(BackendUnavailable, match="NATS is down"):
        cancel(store)
