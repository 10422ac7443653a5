"""The NATS connection: connects (and reconnects) in the background, ensures resources on connect.

Callers never wait on a dead connection: while NATS is unreachable every operation fails fast
with `BackendUnavailable`, which the gateway turns into 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

import nats
import nats.errors
import nats.js.errors
import orjson
from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from pyoco_server.aio import cancel_and_wait
from pyoco_server.domain.errors import BackendUnavailable
from pyoco_server.domain.settings import Settings
from pyoco_server.jetstream._credentials import credentials_for
from pyoco_server.jetstream._replies import Replies
from pyoco_server.jetstream._resources import PlacementError, check_resources, ensure_resources

log = logging.getLogger(__name__)

T = TypeVar("T")

_RECONNECT_WAIT_SEC = 0.5
_ELECTION_RETRY_SEC = 0.05
_ELECTION_RETRY_MAX_SEC = 1.0
_PING_INTERVAL_SEC = 5
_MAX_OUTSTANDING_PINGS = 2
"""A server that answers no ping for 10 to 15 s is left for another (nats-py's defaults, 2
minutes and 2 pings, would keep a process on a frozen cluster node for up to 6 minutes)."""


class translate_errors:  # used as a function: `with translate_errors(...)`
    """Turn NATS failures inside the block into `BackendUnavailable`.

    A class rather than a `contextlib.contextmanager`: every NATS operation goes through one,
    and a generator-based context costs three times as much to enter and leave.
    """

    __slots__ = ("_action",)

    def __init__(self, action: str) -> None:
        self._action = action

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if exc is None or not isinstance(exc, (nats.errors.Error, TimeoutError)):
            return
        detail = str(exc) or type(exc).__name__
        # A request that timed out or lost its connection may have been carried out; one that
        # found no responder or was answered with an error was not.
        uncertain = isinstance(exc, (TimeoutError, nats.errors.ConnectionClosedError))
        raise BackendUnavailable(
            f"NATS did not complete {self._action}: {detail}", uncertain=uncertain
        ) from exc


class NatsSubscription:
    """A core NATS subscription as the ports see it: something to close."""

    def __init__(self, subscription: Subscription) -> None:
        self._subscription = subscription

    async def close(self) -> None:
        """Unsubscribe (a connection that is already gone has nothing left to stop)."""
        try:
            await self._subscription.unsubscribe()
        except (nats.errors.Error, TimeoutError) as exc:
            log.debug("unsubscribe failed: %s", exc)


CREDENTIALS_HINT = (
    "give credentials with PYOCO_NATS_USER and PYOCO_NATS_PASSWORD, PYOCO_NATS_TOKEN or "
    "PYOCO_NATS_CREDS, or start the command in the directory where `pyoco-server up` runs (it "
    "keeps its NATS users in .pyoco/nats/auth)"
)


def _is_refusal(message: str) -> bool:
    """Whether a NATS error says the server refused the credentials."""
    lowered = message.lower()
    return "authorization violation" in lowered or "authentication" in lowered


class Connection:
    """One NATS connection with JetStream, shared by everything in a process."""

    def __init__(self, settings: Settings, name: str, role: str = "admin") -> None:
        self.settings = settings
        self.name = name
        self.credentials = credentials_for(settings, role)
        self._nc: NATS | None = None
        self._js: JetStreamContext | None = None
        self._replies: Replies | None = None
        self._ready = asyncio.Event()
        self._generation = 0
        """How many times the connection became ready (so watchers see a reconnect)."""
        self._next_generation = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._ensure_task: asyncio.Task[None] | None = None
        self._buckets: dict[str, KeyValue] = {}
        self._last_error = ""
        self._refusal = ""
        """The server's last refusal of the credentials (cleared once connected)."""

    @property
    def ready(self) -> bool:
        """True while connected with resources in place."""
        return self._ready.is_set() and self._nc is not None and self._nc.is_connected

    @property
    def nc(self) -> NATS:
        """The connected client, or `BackendUnavailable`."""
        self._check()
        assert self._nc is not None
        return self._nc

    @property
    def replies(self) -> Replies:
        """Requests on the connected client (`Replies`), or `BackendUnavailable`."""
        self._check()
        assert self._replies is not None
        return self._replies

    @property
    def js(self) -> JetStreamContext:
        """The JetStream context, or `BackendUnavailable`."""
        self._check()
        assert self._js is not None
        return self._js

    def _check(self) -> None:
        if not self.ready:
            raise BackendUnavailable(f"{self.unavailable_reason()}; retry shortly")

    @property
    def answers(self) -> bool:
        """True while connected to a server, resources in place or not."""
        return self._nc is not None and self._nc.is_connected

    @property
    def refused(self) -> bool:
        """True when the server refused the credentials since the last successful connect."""
        return bool(self._refusal)

    def unavailable_reason(self) -> str:
        """Why NATS cannot be used now, for a person: refused credentials, or no answer."""
        url = self.settings.nats_url
        if self._refusal:
            who = (
                "a connection without credentials"
                if self.credentials.source == "none"
                else f"the credentials of {self.credentials.source}"
            )
            return f"NATS at {url} refused {who} ({self._refusal}); {CREDENTIALS_HINT}"
        if self._last_error and self.answers:
            return f"NATS at {url} answers, but JetStream is not ready ({self._last_error})"
        reason = f" ({self._last_error})" if self._last_error else ""
        return f"NATS at {url} is not reachable{reason}"

    async def publish_acked(self, subject: str, payload: bytes, headers: dict[str, str]) -> int:
        """Publish to a stream and wait for its ack; the message's sequence in the stream.

        What nats-py's `JetStreamContext.publish` does, raising the same errors, with the ack
        read by orjson instead of `json` and a dataclass (a third of that call's CPU), and the
        reply handed over by `Replies`: paid on every submit and every run update.
        """
        replies = self.replies
        timeout = self.settings.nats_request_timeout_sec
        try:
            msg = await replies.request(subject, payload, timeout, headers)
        except nats.errors.NoRespondersError:
            try:
                msg = await self.through_election(
                    lambda: replies.request(subject, payload, timeout, headers)
                )
            except nats.errors.NoRespondersError:
                raise nats.js.errors.NoStreamResponseError from None
        ack = orjson.loads(msg.data)
        if "error" in ack:
            raise nats.js.errors.APIError.from_error(ack["error"])
        return int(ack["seq"])

    async def through_election(self, write: Callable[[], Awaitable[T]]) -> T:
        """`write()`, again while no stream leader answers it, for up to the request timeout.

        No answer at all means nothing was stored: the cluster is electing the stream's leader
        (a node was lost) or the stream is being created again. The same message goes again,
        its `Nats-Msg-Id` (or expected revision) unchanged, so it is stored once at most.
        """
        deadline = time.monotonic() + self.settings.nats_request_timeout_sec
        delay = _ELECTION_RETRY_SEC
        while True:
            try:
                return await write()
            except (nats.errors.NoRespondersError, nats.js.errors.NoStreamResponseError):
                if time.monotonic() + delay >= deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, _ELECTION_RETRY_MAX_SEC)

    async def key_value(self, bucket: str) -> KeyValue:
        """The KV bucket `bucket` on the current connection (looked up once per connection)."""
        js = self.js
        kv = self._buckets.get(bucket)
        if kv is None:
            with translate_errors(f"opening bucket {bucket}"):
                kv = await js.key_value(bucket)
            self._buckets[bucket] = kv
        return kv

    async def keys(self, bucket: str, prefix: str, action: str) -> list[str]:
        """The keys stored in `bucket` that start with `prefix`, with the prefix removed.

        From the bucket stream's subject counts: one request, no consumer. (nats-py's KV watch
        can report "no more values" before delivering the only one, so a watch could miss a
        key.) `action` names the listing in a `BackendUnavailable`.
        """
        subjects = f"$KV.{bucket}.{prefix}"
        with translate_errors(action):
            info = await self.js.stream_info(f"KV_{bucket}", subjects_filter=f"{subjects}>")
        return [subject.removeprefix(subjects) for subject in info.state.subjects or {}]

    async def start(self) -> None:
        """Begin connecting in the background; returns at once. Restartable after `close`."""
        if self._task is None:
            self._closing = False
            self._task = asyncio.create_task(self._connect(), name=f"nats-connect:{self.name}")

    async def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until connected with resources ensured; False on timeout."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return False
        return True

    @property
    def generation(self) -> int:
        """Counts the times the connection became ready; a reconnect makes a new generation.

        A consumer the server kept only in memory (an ordered consumer) is gone after a server
        restart: whoever holds one subscribes again in the next generation.
        """
        return self._generation

    async def wait_generation_after(self, generation: int) -> None:
        """Wait until the connection is ready in a generation later than `generation`."""
        while self._generation <= generation:
            await self._next_generation.wait()

    async def _connect(self) -> None:
        self._nc = await nats.connect(
            servers=[url.strip() for url in self.settings.nats_url.split(",")],
            name=self.name,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=_RECONNECT_WAIT_SEC,
            ping_interval=_PING_INTERVAL_SEC,
            max_outstanding_pings=_MAX_OUTSTANDING_PINGS,
            connect_timeout=2,
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
            **self.credentials.connect_options(),
        )
        self._js = self._nc.jetstream(timeout=self.settings.nats_request_timeout_sec)
        self._replies = Replies(self._nc)
        await self._ensure_until_done()

    async def _ensure_until_done(self, *, first: bool = True) -> None:
        """Ensure (or check) the resources until it succeeds; ready after the `first` time."""
        assert self._js is not None
        while True:
            try:
                if self.settings.nats_manage_resources and self.credentials.may_manage_resources:
                    await ensure_resources(self._js, self.settings)
                else:
                    await check_resources(self._js, self.settings)
            except (nats.errors.Error, TimeoutError) as exc:
                error = f"setting up JetStream: {exc or type(exc).__name__}"
                if error != self._last_error:  # once, not every half second
                    level = logging.ERROR if isinstance(exc, PlacementError) else logging.WARNING
                    log.log(level, "JetStream not ready (%s); retrying", error)
                self._last_error = error
                await asyncio.sleep(_RECONNECT_WAIT_SEC)
                continue
            self._last_error = self._refusal = ""
            if first:
                self._became_ready()
                log.info("connected to NATS at %s", self.settings.nats_url)
            return

    def _became_ready(self) -> None:
        self._ready.set()
        self._generation += 1
        self._next_generation.set()
        self._next_generation = asyncio.Event()

    async def _on_error(self, exc: Exception) -> None:
        message = str(exc) or type(exc).__name__
        if _is_refusal(message):
            first = message != self._refusal
            self._refusal = message
            if first:
                log.error("%s", self.unavailable_reason())
            return
        if message != self._last_error:
            log.warning("NATS at %s: %s", self.settings.nats_url, message)
        self._last_error = message

    async def _on_disconnected(self) -> None:
        # nats-py reports the connection as connected before it calls `_on_reconnected`: not
        # ready until then, so that watchers see the new generation before anything else.
        self._ready.clear()
        if self._closing:
            return
        log.warning("disconnected from NATS at %s; reconnecting", self.settings.nats_url)

    async def _on_reconnected(self) -> None:
        """Ready again at once; the resources are checked again in the background.

        Another node of a cluster has the same replicated streams, and a restarted server
        keeps its store: waiting for every resource to answer (several seconds while a cluster
        elects leaders) would refuse requests that can be served. A server that did lose its
        store gets what it lacks created again within moments; meanwhile a publish finds no
        stream and is tried again (`publish_acked`).
        """
        log.info("reconnected to NATS at %s", self.settings.nats_url)
        self._last_error = ""
        self._became_ready()
        await cancel_and_wait(self._ensure_task)
        self._ensure_task = asyncio.create_task(self._ensure_until_done(first=False))

    async def close(self) -> None:
        """Close the connection (pending acks and publishes are flushed first)."""
        self._closing = True
        await cancel_and_wait(self._task)
        await cancel_and_wait(self._ensure_task)
        self._task = self._ensure_task = None
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(nats.errors.Error, TimeoutError):
                await self._nc.flush(timeout=1)
            # With NATS gone, nats-py may write its pending buffer to a transport already
            # closed (uvloop raises RuntimeError): nothing more can be delivered anyway.
            with contextlib.suppress(nats.errors.Error, TimeoutError, RuntimeError, OSError):
                await self._nc.close()
        self._nc = self._js = self._replies = None
        self._buckets.clear()
        self._ready.clear()
