"""A KV bucket mirrored in memory: a watch that calls back on every change.

The gateway keeps its run index and its API-key cache this way, so no request path reads the
whole bucket. The watch is an ordered push consumer delivering the last value of each key, then
every change. nats-py recreates it after a gap, but only notices a consumer lost with a restarted
server after two missed heartbeats (10 to 20 s of a stale index, stale key revocations): so the
mirror subscribes again itself whenever the connection comes back, from the revision after the
last one it applied. A follower that keeps what it applied (the gateway's run index cache) is
asked first (`resume`): from the revision it holds, only later changes are delivered. The initial contents count as loaded once the message at the stream's last
sequence (taken just before subscribing) has been handled (nats-py's own "end of current values"
marker can come before the values).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import ConsumerConfig, DeliverPolicy, StreamInfo

from pyoco_server.aio import cancel_all, cancel_and_wait
from pyoco_server.domain.errors import BackendUnavailable
from pyoco_server.jetstream._connection import Connection
from pyoco_server.jetstream._positions import position
from pyoco_server.ports import BucketOrigin, Resume

log = logging.getLogger(__name__)

OnPut = Callable[[str, bytes, int], None]
OnDelete = Callable[[str, int], None]

_KV_OPERATION = "KV-Operation"
_MARKER_REASON = "Nats-Marker-Reason"
_RETRY_SEC = 1.0


class BucketMirror:
    """Calls `on_put(key, value, revision)` and `on_delete(key, revision)` for every change."""

    def __init__(
        self,
        connection: Connection,
        bucket: str,
        on_put: OnPut,
        on_delete: OnDelete,
        resume: Resume | None = None,
    ) -> None:
        self._connection = connection
        self._bucket = bucket
        self._prefix = f"$KV.{bucket}."
        self._on_put = on_put
        self._on_delete = on_delete
        self._resume = resume
        self._loaded = asyncio.Event()
        self._initial_seq = 0
        self._applied = 0
        """The highest revision handed to the callbacks: a new subscription resumes after it."""
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None

    @property
    def loaded(self) -> bool:
        """True once the bucket's contents as of the start are in memory."""
        return self._loaded.is_set()

    async def wait_loaded(self, timeout: float | None = None) -> bool:
        """Wait for the initial contents; False on timeout."""
        try:
            await asyncio.wait_for(self._loaded.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def start(self) -> None:
        """Start mirroring in the background (once NATS is up)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"mirror:{self._bucket}")

    async def stop(self) -> None:
        """Stop the watch."""
        await cancel_and_wait(self._task)
        self._task = None
        await self._unsubscribe()

    async def _run(self) -> None:
        while True:
            await self._connection.wait_ready()
            generation = self._connection.generation
            try:
                subscribed = await self._subscribe_in(generation)
            except Exception as exc:  # even a bug must not leave a stale copy for good
                expected = isinstance(exc, (nats.errors.Error, TimeoutError, BackendUnavailable))
                log.warning(
                    "mirror of %s not started (%s); retrying",
                    self._bucket,
                    exc,
                    exc_info=not expected,
                )
                await self._unsubscribe()
                await self._pause(generation)
                continue
            if subscribed:
                await self._connection.wait_generation_after(generation)
            await self._unsubscribe()

    async def _subscribe_in(self, generation: int) -> bool:
        """Subscribe on the connection of `generation`; False if it was replaced first.

        A request sent as the connection dropped (before it was noticed) gets no answer on the
        next one, and nats-py lets it run to its timeout: the mirror starts over at once instead.
        """
        attempt = asyncio.ensure_future(self._subscribe())
        replaced = asyncio.ensure_future(self._connection.wait_generation_after(generation))
        try:
            await asyncio.wait({attempt, replaced}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            await cancel_all([attempt, replaced])
            raise
        await cancel_all([replaced])
        if not attempt.done():
            await cancel_all([attempt])
            return False
        attempt.result()  # what the subscribe raised
        return True

    async def _pause(self, generation: int) -> None:
        """Wait `_RETRY_SEC` before another try, or less if the connection comes back."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connection.wait_generation_after(generation), _RETRY_SEC)

    async def _subscribe(self) -> None:
        js = self._connection.js
        info = await js.stream_info(f"KV_{self._bucket}")
        if self._loaded.is_set():
            # A reconnect: every change after the last one applied (the server keeps the latest
            # revision of each key, so those it dropped have a later one).
            start = self._applied + 1
            if info.state.last_seq < self._applied:
                log.error(
                    "bucket %s now ends before revision %d: NATS lost its store. Restart the "
                    "gateway: what it holds of the bucket is no longer true",
                    self._bucket,
                    self._applied,
                )
                start = 1
            config = ConsumerConfig(opt_start_seq=start)
            policy = DeliverPolicy.BY_START_SEQUENCE
        else:
            self._initial_seq = info.state.last_seq if info.state.messages else 0
            held = self._held(info)
            if self._initial_seq <= held:
                self._loaded.set()
            if held:  # the follower holds the bucket up to `held`: only what came after
                self._applied = held
                config = ConsumerConfig(opt_start_seq=held + 1)
                policy = DeliverPolicy.BY_START_SEQUENCE
            else:
                config, policy = ConsumerConfig(), DeliverPolicy.LAST_PER_SUBJECT
        self._subscription = await js.subscribe(
            f"{self._prefix}>",
            stream=f"KV_{self._bucket}",
            cb=self._on_message,
            ordered_consumer=True,
            deliver_policy=policy,
            config=config,
        )
        log.info("mirroring bucket %s (%s)", self._bucket, policy.value)

    def _held(self, info: StreamInfo) -> int:
        """The revision the follower already holds everything up to (0: load everything)."""
        if self._resume is None:
            return 0
        identity = f"{info.config.name}@{info.created}"
        origin = BucketOrigin(identity, info.state.first_seq, info.state.last_seq)
        return self._resume(origin)

    async def _unsubscribe(self) -> None:
        if self._subscription is not None:
            try:
                await self._subscription.unsubscribe()
            except (nats.errors.Error, TimeoutError) as exc:
                log.debug("mirror of %s: unsubscribe failed: %s", self._bucket, exc)
            self._subscription = None

    async def _on_message(self, msg: Msg) -> None:
        key = msg.subject[len(self._prefix) :]
        revision, _, pending = position(msg)
        self._applied = max(self._applied, revision)
        headers = msg.headers or {}
        try:
            if headers.get(_KV_OPERATION) in ("DEL", "PURGE") or _MARKER_REASON in headers:
                self._on_delete(key, revision)
            else:
                self._on_put(key, bytes(msg.data), revision)
        except Exception:
            # One bad record must not stop the mirror: log it and go on with the next.
            log.exception(
                "mirror of %s: record %s (revision %d) not applied", self._bucket, key, revision
            )
        if revision >= self._initial_seq or pending == 0:
            self._loaded.set()
