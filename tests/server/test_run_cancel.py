"""RunService.cancel: compare-and-set cancel with a notice to the worker, on the memory backend."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from pyoco_server.domain.errors import BackendUnavailable, InvalidInput, RunNotFound
from pyoco_server.domain.records import CancelNotice
from pyoco_server.domain.settings import Settings
from pyoco_server.domain.snapshot import RunSnapshot, RunStatus
from pyoco_server.memory import MemoryBackend
from pyoco_server.services.runs import RunService
from tests.support.fakes import Spy
from tests.support.memory import backend_with, racing_writes
from tests.support.samples import A_JOB, RUN_ID

T = TypeVar("T")
NOW = 700.0
PENDING = RunSnapshot.pending(A_JOB)
RUNNING = PENDING.claimed("w1", 1, 10.0)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def store_with(*snapshots: RunSnapshot) -> Spy:
    """A memory run store holding `snapshots`, through a spy (which counts the reads)."""
    return Spy(backend_with(*snapshots).runs)


def notifier_of(error: BackendUnavailable | None = None) -> Spy:
    """Cancel notices through a spy (`notices`); each notice fails with `error` when given."""
    notifier = Spy(MemoryBackend().cancels)
    if error is not None:
        notifier.fail("notify", error)
    return notifier


def notices(notifier: Spy) -> list[CancelNotice]:
    """The notices the service sent (or tried to)."""
    return [call.arguments["notice"] for call in notifier.calls_to("notify")]


def gets(store: Spy) -> int:
    return len(store.calls_to("get"))


def service(store: Spy, notifier: Spy | None = None) -> RunService:
    queue = Spy(MemoryBackend().jobs)
    queue.fail("publish", AssertionError("cancel published a job"))  # a cancel never queues
    return RunService(store, queue, Settings(), notifier=notifier, clock=lambda: NOW)


def cancel(
    store: Spy,
    notifier: Spy | None = None,
    *,
    run_id: str = RUN_ID,
    requested_by: str | None = "alice",
    reason: str | None = "not needed",
) -> RunSnapshot:
    return run(service(store, notifier).cancel(run_id, requested_by=requested_by, reason=reason))


def test_a_pending_run_is_cancelled_without_a_notice() -> None:
    store = store_with(PENDING)
    notifier = notifier_of()

    result = cancel(store, notifier)

    assert result.status is RunStatus.CANCELLED
    assert result.error_reason == "cancelled"
    assert (result.cancel_requested_at, result.cancel_requested_by, result.cancel_reason) == (
        NOW,
        "alice",
        "not needed",
    )
    assert store.current(RUN_ID) == result
    assert len(store.writes) == 1
    assert notices(notifier) == []


def test_a_running_run_becomes_cancelling_with_one_notice() -> None:
    store = store_with(RUNNING)
    notifier = notifier_of()

    result = cancel(store, notifier, requested_by="address:10.0.0.1", reason="too slow")

    assert result.status is RunStatus.CANCELLING
    assert store.current(RUN_ID) == result
    assert notices(notifier) == [
        CancelNotice(
            run_id=RUN_ID, requested_at=NOW, requested_by="address:10.0.0.1", reason="too slow"
        )
    ]


def test_a_notice_without_requester_or_reason() -> None:
    notifier = notifier_of()

    cancel(store_with(RUNNING), notifier, requested_by=None, reason=None)

    assert notices(notifier) == [CancelNotice(RUN_ID, NOW, None, None)]


def test_a_cancel_without_a_notifier_still_marks_the_run() -> None:
    store = store_with(RUNNING)

    assert cancel(store, None).status is RunStatus.CANCELLING
    assert store.current(RUN_ID).status is RunStatus.CANCELLING


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED])
def test_an_ended_run_is_returned_unchanged_without_a_write(status: RunStatus) -> None:
    ended = RUNNING.finished(status, 20.0)
    store = store_with(ended)
    notifier = notifier_of()

    result = cancel(store, notifier)

    assert result == ended
    assert store.writes == []
    assert store.current(RUN_ID) == ended
    assert notices(notifier) == []


def test_a_repeated_cancel_keeps_the_first_request_and_sends_no_second_notice() -> None:
    store = store_with(RUNNING)
    notifier = notifier_of()
    first = cancel(store, notifier, requested_by="alice", reason="first")

    again = cancel(store, notifier, requested_by="bob", reason="second")

    assert again == first
    assert (again.cancel_requested_by, again.cancel_reason) == ("alice", "first")
    assert len(store.writes) == 1
    assert len(notices(notifier)) == 1


def test_a_conflicting_write_is_retried_and_the_cancel_lands() -> None:
    store = racing_writes(backend_with(RUNNING).runs, lambda current: current.heartbeat(650.0))
    notifier = notifier_of()

    result = cancel(store, notifier)

    assert store.conflicts == 1
    assert gets(store) == 2, "the run was read again after the lost write"
    assert result.status is RunStatus.CANCELLING
    assert result.heartbeat_at == 650.0, "the cancel is applied on top of the concurrent write"
    assert store.current(RUN_ID) == result
    assert len(notices(notifier)) == 1


def test_a_run_that_ends_during_the_cancel_is_returned_as_ended() -> None:
    store = racing_writes(
        backend_with(RUNNING).runs, lambda current: current.finished(RunStatus.COMPLETED, 650.0)
    )
    notifier = notifier_of()

    result = cancel(store, notifier)

    assert result.status is RunStatus.COMPLETED
    assert result.cancel_requested_at is None
    assert store.current(RUN_ID) == result
    assert notices(notifier) == []


def test_a_run_that_keeps_changing_gives_up_with_backend_unavailable() -> None:
    store = racing_writes(
        backend_with(RUNNING).runs,
        lambda current: current.heartbeat(current.heartbeat_at or 0.0),
        times=10_000,
    )
    notifier = notifier_of()

    with pytest.raises(BackendUnavailable, match="kept changing") as raised:
        cancel(store, notifier)

    assert raised.value.retry_after == 1
    assert store.conflicts == 16
    assert store.current(RUN_ID).status is RunStatus.RUNNING
    assert notices(notifier) == []


def test_a_failing_notice_does_not_fail_the_cancel(caplog: pytest.LogCaptureFixture) -> None:
    store = store_with(RUNNING)
    notifier = notifier_of(BackendUnavailable("NATS is down"))

    with caplog.at_level(logging.WARNING, logger="pyoco_server.services.runs"):
        result = cancel(store, notifier)

    assert result.status is RunStatus.CANCELLING
    assert store.current(RUN_ID).status is RunStatus.CANCELLING
    assert len(notices(notifier)) == 1
    assert "cancel notice not sent" in caplog.text


def test_an_unknown_run_is_not_found() -> None:
    store = store_with(RUNNING)

    with pytest.raises(RunNotFound) as raised:
        cancel(store, run_id="run-2")

    assert raised.value.run_id == "run-2"
    assert store.writes == []


@pytest.mark.parametrize("run_id", ["run 1", "run-1\n", "../etc", "", "x" * 65, "run.1"])
def test_a_malformed_run_id_is_invalid_input(run_id: str) -> None:
    store = store_with(RUNNING)

    with pytest.raises(InvalidInput):
        cancel(store, run_id=run_id)

    assert gets(store) == 0
    assert store.writes == []


def test_a_backend_outage_propagates() -> None:
    store = store_with(RUNNING)
    store.fail("get", BackendUnavailable("NATS is down"))

    with pytest.raises(BackendUnavailable, match="NATS is down"):
        cancel(store)
