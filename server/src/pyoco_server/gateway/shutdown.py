"""Learning of a shutdown before uvicorn waits for open requests to finish.

On SIGTERM or SIGINT uvicorn stops accepting connections and waits for the requests in flight,
then cancels them after its graceful-shutdown timeout and only then runs the lifespan's
shutdown. A watch stream would sit out that timeout and end in a cancellation traceback; told
of the signal at once, the gateway ends its streams cleanly and their clients resume elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def on_exit_signal(callback: Callable[[], None]) -> Iterator[None]:
    """While open, call `callback` on this loop when SIGTERM or SIGINT arrives.

    The signal then goes on to the handler installed before (uvicorn's), so shutdown proceeds
    as usual. Outside the main thread (a server run in a test's thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    previous = {int(signum): signal.getsignal(signum) for signum in SIGNALS}

    def handle(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(callback)
        chained = previous[signum]
        if callable(chained):
            chained(signum, frame)
        else:  # default or ignored: as if we had not been here
            signal.signal(signum, chained)
            signal.raise_signal(signum)

    for signum in SIGNALS:
        signal.signal(signum, handle)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
