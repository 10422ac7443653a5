"""The worker: pulls jobs of its tags from JetStream and runs up to `concurrency` at once.

Each tag has one fetch loop on the tag's shared durable consumer. A loop asks for jobs only while
the worker has more free run slots than jobs already waiting, so every tag keeps a pull request
open whenever there is room: no tag is favoured, and an idle worker picks up a job on any of its
tags as soon as it is published. Jobs wait (with in-progress acks) in one first-in, first-out
queue until a slot frees up.

Background loops, all in one task group: the keepalive (in-progress acks for every held job),
the run heartbeat (`heartbeat_at` of every running run, which also reveals missed cancels), the
registry heartbeat, and a watch on the event loop that logs when it was held up (every timer
fired late then, run timeouts included). Cancel notices and max-deliveries advisories arrive by
subscription.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Awaitable, Sequence

from pyoco_server.aio import report_stalls
from pyoco_server.domain.errors import BackendUnavailable
from pyoco_server.domain.records import CancelNotice, WheelState
from pyoco_server.domain.subjects import Subjects
from pyoco_server.ports import Backend, Delivery, Subscription, TagSubscription
from pyoco_server.services.exhaustion import MaxDeliveriesHandler
from pyoco_worker.execution import Executor, StopReason
from pyoco_worker.logs import LogPublisher
from pyoco_worker.presence import Presence
from pyoco_worker.runner import JobRunner
from pyoco_worker.wheels import WheelSync

log = logging.getLogger(__name__)

FETCH_TIMEOUT_SEC = 1.0
"""Long-poll length of one fetch; also bounds how long a stop waits for the fetch loops."""

ABANDON_WAIT_SEC = 10.0
"""How long runs stopped at shutdown get to hand their jobs back."""

LEASE_MARGIN_SHARE = 0.1
LEASE_MARGIN_MIN_SEC = 0.5
"""A run's lease ends this long (a share of AckWait, at least the minimum) before the job
could be delivered again, so the run is gone before another worker starts it."""

_RETRY_SEC = 1.0
_NATS_WAIT_SEC = 5.0


class Worker:
    """A pyoco-server worker process's main object."""

    def __init__(
        self,
        backend: Backend,
        *,
        worker_id: str,
        tags: Sequence[str],
        executor: Executor,
        concurrency: int = 1,
        shutdown_grace_sec: float = 30.0,
        fetch_timeout: float = FETCH_TIMEOUT_SEC,
        claim_id: bool = False,
    ) -> None:
        """A worker serving `tags` with `executor`.

        With `claim_id`, `worker_id` is a base: the worker takes the first free id of it
        (`base`, `base-2`, ...; see presence.py) when it starts, and `worker_id` then says
        which.
        """
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.backend = backend
        self.settings = backend.settings
        self.worker_id = worker_id
        self._claim_id = claim_id
        self.tags = tuple(dict.fromkeys(tags))
        self._executor = executor
        self._concurrency = concurrency
        self._shutdown_grace_sec = shutdown_grace_sec
        self._fetch_timeout = fetch_timeout
        self._free = concurrency
        self._ready: collections.deque[Delivery] = collections.deque()
        self._held: set[Delivery] = set()
        self._changed = asyncio.Condition()
        self._runs: set[asyncio.Task[None]] = set()
        self._runner: JobRunner | None = None
        self._presence: Presence | None = None
        # Background loops stop on this, not on cancellation alone: nats-py swallows a
        # CancelledError that lands while it flushes a publish (an ack, a KV write).
        self._quiet = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set, then shut down in order (see `_shutdown`)."""
        await self.backend.start()
        try:
            if await self._wait_for_nats(stop):
                await self._executor.start()
                try:
                    await self._serve(stop)
                finally:
                    await self._executor.close()
        finally:
            await self.backend.close()

    async def _wait_for_nats(self, stop: asyncio.Event) -> bool:
        while not await self.backend.wait_ready(timeout=_NATS_WAIT_SEC):
            if stop.is_set():
                return False
            log.warning("waiting for NATS: %s", self.backend.unavailable_reason())
        return not stop.is_set()

    async def _serve(self, stop: asyncio.Event) -> None:
        backend = self.backend
        subscriptions = [await backend.jobs.subscribe(tag) for tag in self.tags]
        store = backend.runs
        dead_letters = backend.dead_letters
        self._presence = Presence(
            backend.workers,
            worker_id=self.worker_id,
            tags=self.tags,
            concurrency=self._concurrency,
        )
        wheels = self._wheel_sync(self._presence)
        exhaustion = MaxDeliveriesHandler(
            store, dead_letters, backend.work, Subjects.from_settings(self.settings)
        )
        await self._presence.start(
            self.settings.worker_disconnect_timeout_sec, claim=self._claim_id
        )
        self.worker_id = self._presence.record.worker_id
        self._runner = JobRunner(
            store=store,
            dead_letters=dead_letters,
            executor=self._executor,
            settings=self.settings,
            worker_id=self.worker_id,
            observer=self._presence,
            code=wheels,
            exhaustion=exhaustion,
            logs=LogPublisher(
                backend.logs,
                self.settings.run_log_max_bytes,
                self.settings.nats_request_timeout_sec,
            ),
            wait_ready=backend.wait_ready,
        )
        if wheels is not None:
            await wheels.start()
        listeners: list[Subscription] = [
            await backend.cancels.listen(self._on_cancel),
            await backend.advisories.listen(exhaustion.handle),
        ]
        log.info(
            "worker %s serving tags %s with concurrency %d",
            self.worker_id,
            ",".join(self.tags),
            self._concurrency,
        )
        try:
            async with asyncio.TaskGroup() as group:
                fetchers = [
                    group.create_task(self._fetch_loop(subscription, stop))
                    for subscription in subscriptions
                ]
                group.create_task(self._dispatch_loop(stop))
                background = [
                    group.create_task(self._keepalive_loop()),
                    group.create_task(self._run_heartbeat_loop()),
                    group.create_task(self._presence_loop()),
                    group.create_task(report_stalls(f"worker {self.worker_id}", self._quiet)),
                ]
                await stop.wait()
                await self._shutdown(fetchers, background)
        finally:
            if wheels is not None:
                await wheels.stop()
            for listener in listeners:
                await listener.close()
            for subscription in subscriptions:
                await subscription.close()

    def _wheel_sync(self, presence: Presence) -> WheelSync | None:
        """The wheel sync, when this worker installs registry wheels (`--wheel-sync`)."""
        if not self.settings.wheel_sync_enabled:
            presence.wheels_changed(WheelState(enabled=False))
            return None
        return WheelSync(
            self.backend,
            self.settings,
            self.tags,
            in_use=self._executor.code_in_use,
            on_change=presence.wheels_changed,
        )

    async def _shutdown(
        self, fetchers: list[asyncio.Task[None]], background: list[asyncio.Task[None]]
    ) -> None:
        """Stop in order.

        1. fetch loops end after their current long-poll (at most the fetch timeout);
        2. jobs fetched but not started are handed back at once (nak) for other workers;
        3. runs in flight get the shutdown grace period to finish;
        4. runs still going are stopped (their processes killed) and their jobs handed back;
        5. the registry record says STOPPED_GRACEFUL; background loops stop; the caller then
           closes subscriptions, the run processes and the connection.
        """
        async with self._changed:
            self._changed.notify_all()
        await asyncio.wait(fetchers)
        waiting = list(self._ready)
        self._ready.clear()
        for delivery in waiting:
            self._held.discard(delivery)
            await _quietly(delivery.nak())
        abandoned = await self._finish_or_abandon()
        self._quiet.set()
        for task in background:
            task.cancel()
        assert self._presence is not None
        await _quietly(self._presence.stop())
        log.info(
            "worker %s stopped: %d waiting and %d running job(s) handed back",
            self.worker_id,
            len(waiting),
            abandoned,
        )

    async def _finish_or_abandon(self) -> int:
        if not self._runs:
            return 0
        log.info("waiting up to %.0fs for %d run(s)", self._shutdown_grace_sec, len(self._runs))
        _, late = await asyncio.wait(self._runs, timeout=self._shutdown_grace_sec)
        if not late:
            return 0
        assert self._runner is not None
        for run_id in list(self._runner.active):
            self._runner.stop(run_id, StopReason.SHUTDOWN)
        await asyncio.wait(late, timeout=ABANDON_WAIT_SEC)
        return len(late)

    async def _fetch_loop(self, subscription: TagSubscription, stop: asyncio.Event) -> None:
        while True:
            async with self._changed:
                await self._changed.wait_for(lambda: stop.is_set() or self._free > len(self._ready))
                if stop.is_set():
                    return
                wanted = self._free - len(self._ready)
            if not self.backend.ready:
                # Jobs fetched now could not be claimed: each would come back, one delivery
                # fewer. A cluster elects in seconds; wait for the connection instead.
                await self.backend.wait_ready(_RETRY_SEC)
                continue
            try:
                deliveries = await subscription.fetch(wanted, self._fetch_timeout)
            except BackendUnavailable as exc:
                log.warning("fetching tag %s: %s", subscription.tag, exc)
                await _wait(stop, _RETRY_SEC)
                continue
            if not deliveries:
                continue
            async with self._changed:
                self._ready.extend(deliveries)
                self._held.update(deliveries)
                self._changed.notify_all()

    async def _dispatch_loop(self, stop: asyncio.Event) -> None:
        while True:
            async with self._changed:
                await self._changed.wait_for(
                    lambda: stop.is_set() or (self._free > 0 and bool(self._ready))
                )
                if stop.is_set():
                    return
                delivery = self._ready.popleft()
                self._free -= 1
            task = asyncio.create_task(self._run_one(delivery))
            self._runs.add(task)
            task.add_done_callback(self._runs.discard)

    async def _run_one(self, delivery: Delivery) -> None:
        assert self._runner is not None
        try:
            await self._runner.handle(delivery)
        except Exception:
            # A bug must cost one delivery, not the worker: log it and let the job come back.
            log.exception("unexpected error handling a job on %s", delivery.subject)
            await _quietly(delivery.nak(_RETRY_SEC))
        finally:
            self._held.discard(delivery)
            async with self._changed:
                self._free += 1
                self._changed.notify_all()

    async def _on_cancel(self, notice: CancelNotice) -> None:
        assert self._runner is not None
        if self._runner.stop(notice.run_id, StopReason.CANCEL):
            log.info("run %s: cancel requested by %s", notice.run_id, notice.requested_by)

    async def _keepalive_loop(self) -> None:
        """Tell NATS the jobs in flight are alive, and renew the runs' lease when it heard that.

        Every interval: `in_progress` for each held delivery, then a round trip. Once the server
        answered, it had processed those messages, so no held job is delivered again before
        `sent + AckWait`; the run processes' lease is renewed to end a margin before that (a run
        whose lease runs out stops itself, child.py). Coming back after more than AckWait
        without an answer (this worker was frozen or cut off), the jobs may be with other
        workers already: the runs in flight are stopped as abandoned, and their jobs handed
        back unless a newer attempt owns them.
        """
        ack_wait = self.settings.consumer_ack_wait_sec
        interval = min(self.settings.ack_progress_interval_sec, ack_wait / 4)
        margin = min(max(LEASE_MARGIN_MIN_SEC, ack_wait * LEASE_MARGIN_SHARE), ack_wait / 2)
        confirmed = time.monotonic()
        self._executor.extend_lease(confirmed + ack_wait - margin)
        while not await _wait(self._quiet, interval):
            sent = time.monotonic()
            for delivery in list(self._held):
                await _quietly(delivery.in_progress())
            try:
                await self.backend.round_trip()
            except BackendUnavailable as exc:
                log.warning("runs in flight not confirmed alive: %s", exc)
                continue
            if sent - confirmed > ack_wait:
                self._abandon_runs(f"no answer from NATS for {sent - confirmed:.1f}s")
            confirmed = sent
            self._executor.extend_lease(sent + ack_wait - margin)

    def _abandon_runs(self, why: str) -> None:
        """Stop every run in flight: its job may have been delivered to another worker."""
        assert self._runner is not None
        for run_id in list(self._runner.active):
            log.warning("run %s: %s (more than AckWait); stopping it", run_id, why)
            self._runner.stop(run_id, StopReason.ABANDONED)

    async def _run_heartbeat_loop(self) -> None:
        assert self._runner is not None
        while not await _wait(self._quiet, self.settings.run_heartbeat_interval_sec):
            for active in list(self._runner.active.values()):
                await active.writer.heartbeat()

    async def _presence_loop(self) -> None:
        assert self._presence is not None
        while not await _wait(self._quiet, self.settings.worker_heartbeat_interval_sec):
            await self._presence.beat()


async def _quietly(action: Awaitable[object]) -> None:
    """Await an action whose failure only delays something that happens anyway."""
    try:
        await action
    except BackendUnavailable as exc:
        log.debug("best-effort action failed: %s", exc)


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds` for `event`; True if it is set."""
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        return False
    return True
