"""Cancel notices on core NATS (`pyoco.cancel.<run_id>`): the gateway tells workers at once."""

from __future__ import annotations

import logging

from nats.aio.msg import Msg

from pyoco_server.domain.codec import CANCEL_NOTICE
from pyoco_server.domain.errors import DecodeError
from pyoco_server.domain.records import CancelNotice
from pyoco_server.domain.subjects import Subjects
from pyoco_server.jetstream._connection import Connection, NatsSubscription, translate_errors
from pyoco_server.ports import NoticeHandler

log = logging.getLogger(__name__)


class NatsCancelNotices:
    """Publishes and receives cancel notices.

    Notices are not stored: a worker that misses one still learns of the cancel at its next
    compare-and-set write, which the gateway's CANCELLING write makes fail.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._subjects = Subjects.from_settings(connection.settings)

    async def notify(self, notice: CancelNotice) -> None:
        """Tell every worker that `notice.run_id` was asked to stop."""
        data = CANCEL_NOTICE.encode(notice)
        with translate_errors("sending the cancel notice"):
            await self._connection.nc.publish(self._subjects.cancel(notice.run_id), data)

    async def listen(self, handler: NoticeHandler) -> NatsSubscription:
        """Call `handler` for every cancel notice; invalid ones are logged and dropped."""

        async def on_message(msg: Msg) -> None:
            try:
                notice = CANCEL_NOTICE.decode(msg.data)
            except DecodeError as exc:
                log.warning("ignoring an invalid cancel notice on %s: %s", msg.subject, exc)
                return
            await handler(notice)

        with translate_errors("listening for cancel notices"):
            return NatsSubscription(
                await self._connection.nc.subscribe(self._subjects.cancel_all, cb=on_message)
            )
