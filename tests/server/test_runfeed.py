"""The run list's fan-out (services/runfeed.py), without a server: delivery by scope and
filter, coalescing, bounds, counts at most once per interval, and resuming from the ring."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from pyoco_server.services.index import Summary
from pyoco_server.services.runfeed import (
    CLOSED,
    COUNTS,
    RESET,
    ListFilter,
    ListMailbox,
    RunFeed,
    RunItem,
)


def summary(
    run_id: str, status: str = "PENDING", tenant: str | None = "a", **fields: object
) -> Summary:
    data = {
        "run_id": run_id,
        "flow_name": "main",
        "tag": "default",
        "tags": ["default", "nightly"],
        "status": status,
        "submitted_at": 1.0,
        "updated_at": time.time(),
        "tenant_id": tenant,
        **fields,
    }
    return Summary.from_snapshot(data)


@pytest.fixture(autouse=True)
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One event loop per test (a mailbox's event belongs to the loop that first waits)."""
    running = asyncio.new_event_loop()
    asyncio.set_event_loop(running)
    yield running
    running.close()
    asyncio.set_event_loop(None)


def drain(mailbox: ListMailbox) -> list[object]:
    async def take() -> list[object]:
        items = []
        while (item := await mailbox.get(0.01)) is not None:
            items.append(item)
        return items

    return asyncio.get_event_loop().run_until_complete(take())


def test_a_stream_gets_the_runs_its_scope_and_filters_show() -> None:
    feed = RunFeed("default")
    everything = feed.subscribe(ListFilter())
    tenant_b = feed.subscribe(ListFilter(tenant="b"))
    failed = feed.subscribe(ListFilter(status="FAILED"))
    nightly = feed.subscribe(ListFilter(label="nightly", flow_name="main"))

    pending = summary("r1")
    feed.changed(None, pending, 1)
    feed.changed(pending, summary("r1", "FAILED"), 2)
    feed.changed(None, summary("r2", tenant=None), 3)  # stored without a tenant: "default"

    def runs(mailbox: ListMailbox) -> list[tuple[int, str, str]]:
        return [
            (item.revision, item.summary.run_id, item.summary.status)
            for item in drain(mailbox)
            if isinstance(item, RunItem)
        ]

    assert runs(everything) == [(2, "r1", "FAILED"), (3, "r2", "PENDING")]  # r1 coalesced
    assert runs(tenant_b) == []
    assert runs(failed) == [(2, "r1", "FAILED")]
    assert runs(nightly) == [(2, "r1", "FAILED"), (3, "r2", "PENDING")]


def test_a_run_leaving_a_filter_is_still_sent_so_the_client_can_drop_it() -> None:
    feed = RunFeed("default")
    running = feed.subscribe(ListFilter(status="RUNNING"))
    feed.changed(None, summary("r1", "RUNNING"), 1)
    assert [item.summary.status for item in drain(running) if isinstance(item, RunItem)] == [
        "RUNNING"
    ]
    feed.changed(summary("r1", "RUNNING"), summary("r1", "COMPLETED"), 2)
    assert [item.summary.status for item in drain(running) if isinstance(item, RunItem)] == [
        "COMPLETED"
    ]
    feed.changed(summary("r1", "COMPLETED"), summary("r1", "COMPLETED"), 3)
    assert [item for item in drain(running) if isinstance(item, RunItem)] == []


def test_counts_are_per_tenant_and_follow_every_change() -> None:
    feed = RunFeed("default")
    feed.changed(None, summary("r1", tenant="a"), 1)
    feed.changed(None, summary("r2", tenant="b"), 2)
    feed.changed(summary("r1", tenant="a"), summary("r1", "COMPLETED", tenant="a"), 3)
    feed.changed(summary("r2", tenant="b"), None, 4)  # expired
    assert feed.counts("a") == {"COMPLETED": 1}
    assert feed.counts("b") == {}
    assert feed.counts(None) == {"COMPLETED": 1}


def test_counts_are_sent_at_most_once_per_interval() -> None:
    mailbox = ListMailbox(ListFilter(), counts_interval=0.2)

    async def scenario() -> list[float]:
        sent = []
        started = time.monotonic()
        for _ in range(3):
            mailbox.counts_changed()
            mailbox.counts_changed()
            assert await mailbox.get(1.0) is COUNTS
            sent.append(time.monotonic() - started)
        return sent

    first, second, third = asyncio.get_event_loop().run_until_complete(scenario())
    assert first < 0.1
    assert second - first >= 0.19
    assert third - second >= 0.19


def test_a_stream_that_falls_too_far_behind_is_told_to_reload() -> None:
    mailbox = ListMailbox(ListFilter(), max_runs=3)
    for index in range(5):
        mailbox.offer(index + 1, summary(f"r{index}"))
    assert drain(mailbox) == [RESET]
    assert mailbox.resets == 1
    mailbox.offer(9, summary("r9"))
    assert [item.revision for item in drain(mailbox) if isinstance(item, RunItem)] == [9]


def test_resuming_sends_each_changed_run_once_in_its_latest_state() -> None:
    feed = RunFeed("default", ring_size=4)
    feed.changed(None, summary("r1", "RUNNING"), 10)
    feed.changed(None, summary("r2"), 11)
    feed.changed(summary("r1", "RUNNING"), summary("r1", "COMPLETED"), 12)
    running = ListFilter(status="RUNNING")

    resumed = feed.since(10, ListFilter())
    assert resumed is not None
    assert [(item.revision, item.summary.run_id) for item in resumed] == [(11, "r2"), (12, "r1")]
    # r1 was RUNNING when the client stopped at 11: it is sent though it left the filter.
    assert [item.summary.run_id for item in feed.since(11, running) or []] == ["r1"]
    assert feed.since(12, ListFilter()) == []
    assert feed.since(13, ListFilter()) is None  # a position never seen: another bucket's
    assert feed.since(12, ListFilter(tenant="b")) == []

    for revision in range(13, 16):
        feed.changed(None, summary(f"x{revision}"), revision)
    assert feed.since(10, ListFilter()) is None  # older than the ring
    assert feed.since(12, ListFilter()) is not None


def test_closing_the_feed_ends_every_stream() -> None:
    feed = RunFeed("default")
    mailbox = feed.subscribe(ListFilter())
    feed.close()
    first = asyncio.get_event_loop().run_until_complete(mailbox.get(1.0))
    assert first is CLOSED
    late = feed.subscribe(ListFilter())  # a stream opened while shutting down ends at once
    assert asyncio.get_event_loop().run_until_complete(late.get(1.0)) is CLOSED
    feed.unsubscribe(mailbox)
    assert feed.streams == 1
