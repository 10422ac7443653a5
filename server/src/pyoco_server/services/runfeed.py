"""The run list's changes, fanned out to every open list stream (`GET /runs/events`).

The gateway's one watch of the runs bucket feeds the run index; every change the index applies
is handed here once (`RunFeed.changed`, with the run's summary before and after), and from here
to each open stream whose caller may see the run and whose filters it passes, before or after
the change (so a client also learns that a run left its filter). No stream costs a NATS
consumer, a read of the bucket or a copy of a summary: streams hold references to the index's
own frozen summaries.

Each stream's `ListMailbox` is bounded and coalesces per run: a run that changes again before
the stream sent it is sent once, in its latest state, with the latest change's position as its
event id (positions are the runs bucket's revisions, the same in every gateway process). A
stream that falls `MAILBOX_RUNS` runs behind is told to reload (`reset`) instead of being
buffered further. Counts by status are kept per tenant here, updated with each change
(O(1)), and a stream sends them at most once per `counts_interval`.

Resuming (`Last-Event-ID`) replays from a ring of the latest `RING_SIZE` changes: the runs
changed after that position, each once, in its latest state. A position older than the ring
(or newer than any change seen: another bucket's) cannot be resumed from, and the stream starts
with `reset`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import time
from collections.abc import Iterable, Iterator, Mapping

from pyoco_server.services.index import Summary

RING_SIZE = 4096
"""Recent changes kept for resuming streams."""
MAILBOX_RUNS = 1000
"""Runs a stream may have waiting before it is told to reload instead."""
COUNTS_INTERVAL_SEC = 1.0
"""A stream sends counts at most this often."""

ALL_TENANTS: None = None
"""A scope that sees every tenant's runs (admin keys without `tenant`, or keys off)."""


@dataclasses.dataclass(frozen=True, slots=True)
class ListFilter:
    """What a list stream shows: its caller's scope (a tenant, or all) and its filters."""

    tenant: str | None = ALL_TENANTS
    status: str | None = None
    flow_name: str | None = None
    tag: str | None = None
    label: str | None = None

    def sees(self, tenant: str) -> bool:
        """True when the caller may see runs of `tenant`."""
        return self.tenant is None or self.tenant == tenant

    def accepts(self, summary: Summary) -> bool:
        """True when the run passes the filters (its tenant aside, see `sees`)."""
        return (
            (self.status is None or summary.status == self.status)
            and (self.flow_name is None or summary.flow_name == self.flow_name)
            and (self.tag is None or summary.tag == self.tag)
            and (self.label is None or self.label in summary.tags)
        )


@dataclasses.dataclass(frozen=True, slots=True)
class RunItem:
    """A run to send: its latest state and the position of its latest change."""

    revision: int
    summary: Summary


class Signal:
    """A mailbox's other items: reload, send counts, closed."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


RESET = Signal("reset")
COUNTS = Signal("counts")
CLOSED = Signal("closed")
Item = RunItem | Signal


class ListMailbox:
    """What one list stream has not sent yet: runs coalesced per run, counts, reset, close."""

    def __init__(
        self,
        scope: ListFilter,
        *,
        max_runs: int = MAILBOX_RUNS,
        counts_interval: float = COUNTS_INTERVAL_SEC,
    ) -> None:
        self.scope = scope
        self._runs: collections.OrderedDict[str, RunItem] = collections.OrderedDict()
        self._max_runs = max_runs
        self._interval = counts_interval
        self._counts_due = False
        self._counts_at = 0.0
        self._reset = False
        self._closed = False
        self._ready = asyncio.Event()
        self.resets = 0
        """Times the stream fell too far behind and was told to reload."""

    def offer(self, revision: int, summary: Summary) -> None:
        """A run to send (replacing a change of the same run not sent yet)."""
        if self._reset:
            return  # the client reloads anyway
        self._runs.pop(summary.run_id, None)
        self._runs[summary.run_id] = RunItem(revision, summary)
        if len(self._runs) > self._max_runs:
            self.reset()
        self._ready.set()

    def counts_changed(self) -> None:
        """The counts the stream sees changed: send them (at most once per interval)."""
        self._counts_due = True
        self._ready.set()

    def reset(self) -> None:
        """Tell the client to reload: drop what waits."""
        self._runs.clear()
        self._reset = True
        self.resets += 1
        self._ready.set()

    def close(self) -> None:
        """End the stream (the gateway is shutting down)."""
        self._closed = True
        self._ready.set()

    async def get(self, timeout: float) -> Item | None:
        """The next item to send; None when nothing came within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            item, wait = self._next()
            if item is not None:
                return item
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), min(remaining, wait))

    def _next(self) -> tuple[Item | None, float]:
        """What to send now, else how long until counts may be sent (inf: nothing due)."""
        if self._closed:
            return CLOSED, 0.0
        if self._reset:
            self._reset = False
            return RESET, 0.0
        if self._runs:
            return self._runs.popitem(last=False)[1], 0.0
        if not self._counts_due:
            return None, float("inf")
        now = time.monotonic()
        if now < self._counts_at:
            return None, self._counts_at - now
        self._counts_due = False
        self._counts_at = now + self._interval
        return COUNTS, 0.0


@dataclasses.dataclass(frozen=True, slots=True)
class _Change:
    revision: int
    run_id: str
    before: Summary | None
    after: Summary | None


class RunFeed:
    """Counts by tenant and status, recent changes, and the open list streams' mailboxes.

    `default_tenant` is the tenant of runs stored without one (as the run index lists them).
    """

    def __init__(self, default_tenant: str, *, ring_size: int = RING_SIZE) -> None:
        self._default_tenant = default_tenant
        self._ring: collections.deque[_Change] = collections.deque(maxlen=ring_size)
        self._floor = 0
        """Changes up to this revision have left the ring."""
        self._latest = 0
        self._counts: dict[str, collections.Counter[str]] = {}
        self._streams: set[ListMailbox] = set()
        self._closed = False

    def tenant_of(self, summary: Summary) -> str:
        """The tenant a run belongs to."""
        return summary.tenant_id or self._default_tenant

    def seed(self, counts: Mapping[str, Mapping[str, int]]) -> None:
        """Start the counts by tenant and status over from the run index's.

        A resumed index tells only the changes made since it was saved, not every run.
        """
        self._counts = {tenant: collections.Counter(by) for tenant, by in counts.items()}

    def changed(self, before: Summary | None, after: Summary | None, revision: int) -> None:
        """A change the run index applied (`after` None: the run was deleted or expired)."""
        self._count(before, after)
        if len(self._ring) == self._ring.maxlen:
            self._floor = self._ring[0].revision
        run = after if after is not None else before
        if run is None:
            return
        self._ring.append(_Change(revision, run.run_id, before, after))
        self._latest = max(self._latest, revision)
        recount = before is None or after is None or before.status != after.status
        for mailbox in self._streams:
            self._deliver(mailbox, before, after, revision, recount)

    def _deliver(
        self,
        mailbox: ListMailbox,
        before: Summary | None,
        after: Summary | None,
        revision: int,
        recount: bool,
    ) -> None:
        scope = mailbox.scope
        run = after or before
        if run is None or not scope.sees(self.tenant_of(run)):
            return
        if recount:
            mailbox.counts_changed()
        if after is not None and (
            scope.accepts(after) or (before is not None and scope.accepts(before))
        ):
            mailbox.offer(revision, after)

    def _count(self, before: Summary | None, after: Summary | None) -> None:
        if before is not None:
            counts = self._counts[self.tenant_of(before)]
            counts[before.status] -= 1
            if counts[before.status] <= 0:
                del counts[before.status]
        if after is not None:
            self._counts.setdefault(self.tenant_of(after), collections.Counter())[after.status] += 1

    def counts(self, tenant: str | None) -> dict[str, int]:
        """Runs by status of `tenant` (None: of every tenant)."""
        if tenant is not None:
            return dict(self._counts.get(tenant, {}))
        total: collections.Counter[str] = collections.Counter()
        for counts in self._counts.values():
            total.update(counts)
        return dict(total)

    def subscribe(self, scope: ListFilter) -> ListMailbox:
        """A mailbox receiving every later change `scope` shows; unsubscribe when done."""
        mailbox = ListMailbox(scope)
        self._streams.add(mailbox)
        if self._closed:
            mailbox.close()
        return mailbox

    def unsubscribe(self, mailbox: ListMailbox) -> None:
        """Stop delivering to `mailbox`."""
        self._streams.discard(mailbox)

    def close(self) -> None:
        """End every stream (the gateway is shutting down; clients resume elsewhere)."""
        self._closed = True
        for mailbox in self._streams:
            mailbox.close()

    @property
    def streams(self) -> int:
        """Open list streams."""
        return len(self._streams)

    def since(self, revision: int, scope: ListFilter) -> list[RunItem] | None:
        """The runs `scope` shows that changed after `revision`, each once, oldest change first.

        None when the changes since cannot all be known: `revision` is older than the ring, or
        newer than any change seen (a position from another bucket).
        """
        if revision < self._floor or revision > self._latest:
            return None
        first: dict[str, Summary | None] = {}
        latest: dict[str, _Change] = {}
        for change in self._after(revision):
            first.setdefault(change.run_id, change.before)
            latest[change.run_id] = change
        return list(self._shown(latest.values(), first, scope))

    def _after(self, revision: int) -> list[_Change]:
        """The ring's changes after `revision`, oldest first."""
        newer: list[_Change] = []
        for change in reversed(self._ring):
            if change.revision <= revision:
                break
            newer.append(change)
        newer.reverse()
        return newer

    def _shown(
        self,
        changes: Iterable[_Change],
        first: dict[str, Summary | None],
        scope: ListFilter,
    ) -> Iterator[RunItem]:
        for change in sorted(changes, key=lambda change: change.revision):
            after, before = change.after, first[change.run_id]
            if after is None or not scope.sees(self.tenant_of(after)):
                continue
            if scope.accepts(after) or (before is not None and scope.accepts(before)):
                yield RunItem(change.revision, after)
