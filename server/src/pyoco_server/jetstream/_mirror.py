"""A KV bucket mirrored in memory: a watch that calls back on every change.

The gateway keeps its run index and its API-key cache this way, so no request path reads the
whole bucket. The watch is an ordered push consumer delivering the last value of each key, then
every change; nats-py recreates it after a gap or a reconnect. The initial contents count as
loaded once the message at the stream's last sequence (taken just before subscribing) has been
handled (nats-py's own "end of current values" marker can come before the values).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import DeliverPolicy

from pyoco_server.aio import cancel_and_wait
from pyoco_server.jetstream._connection import Connection

log = logging.getLogger(__name__)

OnPut = Callable[[str, bytes, int], None]
OnDelete = Callable[[str, int], None]

_KV_OPERATION = "KV-Operation"
_MARKER_REASON = "Nats-Marker-Reason"
_RETRY_SEC = 1.0


class BucketMirror:
    """Calls `on_put(key, value, revision)` and `on_delete(key, revision)` for every change."""

    def __init__(
        self, connection: Connection, bucket: str, on_put: OnPut, on_delete: OnDelete
    ) -> None:
        self._connection = connection
        self._bucket = bucket
        self._prefix = f"$KV.{bucket}."
        self._on_put = on_put
        self._on_delete = on_delete
        self._loaded = asyncio.Event()
        self._initial_seq = 0
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
        if self._subscription is not None:
            try:
                await self._subscription.unsubscribe()
            except (nats.errors.Error, TimeoutError) as exc:
                log.debug("mirror of %s: unsubscribe failed: %s", self._bucket, exc)
            self._subscription = None

    async def _run(self) -> None:
        while self._subscription is None:
            await self._connection.wait_ready()
            try:
                await self._subscribe()
            except (nats.errors.Error, TimeoutError) as exc:
                log.warning("mirror of %s not started (%s); retrying", self._bucket, exc)
                await asyncio.sleep(_RETRY_SEC)

    async def _subscribe(self) -> None:
        js = self._connection.js
        info = await js.stream_info(f"KV_{self._bucket}")
        self._initial_seq = info.state.last_seq if info.state.messages else 0
        if self._initial_seq == 0:
            self._loaded.set()
        self._subscription = await js.subscribe(
            f"{self._prefix}>",
            stream=f"KV_{self._bucket}",
            cb=self._on_message,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.LAST_PER_SUBJECT,
        )
        log.info("mirroring bucket %s", self._bucket)

    async def _on_message(self, msg: Msg) -> None:
        key = msg.subject[len(self._prefix) :]
        revision = int(msg.metadata.sequence.stream)
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
        if revision >= self._initial_seq or msg.metadata.num_pending == 0:
            self._loaded.set()
