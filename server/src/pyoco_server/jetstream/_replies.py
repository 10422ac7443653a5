"""Request and reply on one NATS connection, each reply handed to its waiter as it is read.

nats-py's `Client.request` sends each reply through its inbox subscription's queue to a task
that runs a callback, which then wakes the waiter; it waits with `asyncio.wait_for` and draws
two random bytes from the kernel per request. `Replies` takes the subscription's queue's place
(the `put_nowait` nats-py's reader calls), so a reply wakes its waiter directly, and times
requests out with a timer on the loop. A worker makes three requests per run and the gateway
two per submit: measured in docs/performance.md ("a reply straight to its waiter").

The subscription is nats-py's own (it is subscribed again after a reconnect like any other);
only its queue is replaced. tests/server/test_nats_replies.py checks the nats-py internals this
relies on, and the errors: no responders, timeout, a closed or draining connection.
"""

from __future__ import annotations

import asyncio
import itertools

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

_STATUS = "Status"
_NO_RESPONDERS = "503"
_NOT_FOUND = "404"
_DELETED = frozenset({"DEL", "PURGE"})


class Replies:
    """The replies to one connection's requests, on one wildcard inbox subscription."""

    def __init__(self, nc: NATS) -> None:
        self._nc = nc
        self._prefix = nc.new_inbox() + "."
        self._cut = len(self._prefix)
        self._tokens = itertools.count()
        self._waiting: dict[str, asyncio.Future[Msg]] = {}
        self._subscription: Subscription | None = None
        self._subscribing = asyncio.Lock()

    async def request(
        self, subject: str, payload: bytes, timeout: float, headers: dict[str, str] | None = None
    ) -> Msg:
        """The reply to `payload` sent on `subject`; the errors of nats-py's `Client.request`.

        Raises:
            nats.errors.NoRespondersError: nobody listens on `subject`.
            nats.errors.TimeoutError: no reply within `timeout` seconds.
            nats.errors.ConnectionDrainingError: the connection is draining.
        """
        nc = self._nc
        if nc.is_draining_pubs:
            raise nats.errors.ConnectionDrainingError
        if self._subscription is None:
            await self._subscribe()
        token = str(next(self._tokens))
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Msg] = loop.create_future()
        self._waiting[token] = reply
        timer = loop.call_later(timeout, _time_out, reply)
        try:
            await nc.publish(subject, payload, reply=self._prefix + token, headers=headers)
            msg = await reply
        finally:
            timer.cancel()
            self._waiting.pop(token, None)
        if msg.headers and msg.headers.get(_STATUS) == _NO_RESPONDERS:
            raise nats.errors.NoRespondersError
        return msg

    async def _subscribe(self) -> None:
        """Subscribe the inbox once, however many requests come first at the same time."""
        async with self._subscribing:
            if self._subscription is None:
                subscription = await self._nc.subscribe(self._prefix + "*")
                subscription._pending_queue = self  # type: ignore[assignment]
                self._subscription = subscription

    def put_nowait(self, msg: Msg) -> None:
        """Hand a reply to its waiter (called by nats-py's reader, in the queue's place)."""
        if self._subscription is not None:  # nats-py counted it as pending in the queue
            self._subscription._pending_size -= len(msg.data)
        reply = self._waiting.pop(msg.subject[self._cut :], None)
        if reply is not None and not reply.done():
            reply.set_result(msg)

    def qsize(self) -> int:
        """Nothing waits in this queue (nats-py asks when it reports pending messages)."""
        return 0

    def empty(self) -> bool:
        """Nothing waits in this queue."""
        return True

    async def join(self) -> None:
        """Nothing is left to process (nats-py waits for this when the connection drains)."""


def _time_out(reply: asyncio.Future[Msg]) -> None:
    if not reply.done():
        reply.set_exception(nats.errors.TimeoutError())


async def direct_get(
    replies: Replies, api: str, stream: str, subject: str, timeout: float
) -> tuple[bytes | None, int]:
    """The last message on `subject` of a stream that allows direct gets: (data, sequence).

    As nats-py's `KeyValue.get` reads a key on such a stream (`<api>.DIRECT.GET`, `api` the
    JetStream API prefix), with
    `(None, 0)` where it raises `KeyNotFoundError`: no message, or a deletion marker.

    Raises:
        nats.js.errors.APIError: the server answered with an error.
    """
    msg = await replies.request(f"{api}.DIRECT.GET.{stream}.{subject}", b"", timeout)
    headers = msg.headers or {}
    if not msg.data:
        status = headers.get(_STATUS)
        if status == _NOT_FOUND:
            return None, 0
        if status:
            raise nats.js.errors.APIError.from_msg(msg)
    if headers.get("Nats-Subject") != subject or headers.get("KV-Operation") in _DELETED:
        return None, 0
    return msg.data or None, int(headers.get("Nats-Sequence") or 0)
