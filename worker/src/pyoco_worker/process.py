"""`RunProcess`: the worker's handle on one warm run process (its pipes and state buffer).

The worker's ends of the pipes are read and written through the event loop as frames
(framing.py): a message of any size arrives whole. The process is gone at the end of the stream
(or an error on it), or once the fork server says it exited (its sentinel), whichever comes
first: a process a task forked holds the pipe open after the run process died, so the end of the
stream came only when that one ended (a crash seen after a minute, or never). What the process
sent before it exited is delivered first. A message that breaks the protocol is delivered as a
`Violation`, and the process is not trusted with another run.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import dataclasses
import logging
import os
import pickle
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext, ForkServerProcess
from multiprocessing.process import BaseProcess
from typing import Any

from pyoco_server.domain.snapshot import TaskState
from pyoco_worker.child import ChildConfig, child_main, decode_states
from pyoco_worker.framing import FrameReader, FrameWriter
from pyoco_worker.freshness import Loaded
from pyoco_worker.protocol import (
    Control,
    FromChild,
    ProtocolError,
    Ready,
    RunJob,
    decode_from_child,
)

log = logging.getLogger(__name__)

RUN_PROCESS_NAME = "pyoco-run"
"""The multiprocessing name of every run process (the pool finds leftovers by it)."""

START_TIMEOUT_SEC = 60.0
"""How long a new run process gets to say it is ready."""

STATES_BYTES = 16384
"""Size of a run process's shared task-state buffer (see child.py)."""

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
"""The largest message a run process may send (its outcome, with every task record)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Violation:
    """A run process broke the protocol (`detail` says how); it must not run anything more."""

    detail: str


class UnsendableJob(ValueError):
    """A job that cannot be pickled for a run process (params nested past pickle's limit)."""


Delivered = FromChild | Violation | None
Sink = Callable[[Delivered], None]
"""Receives a run process's messages, a `Violation`, and None once it is gone."""


class RunProcess:
    """One warm child process: its pipes (jobs, control) and its task-state buffer."""

    def __init__(
        self,
        process: BaseProcess,
        jobs: Connection,
        control: Connection,
        states: Any,
        lease: Any,
    ) -> None:
        self.process = process
        self.jobs = jobs
        self.control = control
        self.states = states
        self.lease = lease
        """Shared with the child: [0] the lease's end (monotonic; 0 for none), [1] set to 1 by
        the child when it stopped its run because the lease ran out (see child.py)."""
        self.code_key: tuple[str, ...] | None = None
        """The registry wheels this process has run with (None: it has run nothing yet)."""
        self.tenant: str | None = None
        """The tenant whose runs this process has run (meaningful once `code_key` is set)."""
        self.loaded = Loaded()
        """The task files it loaded (freshness.py)."""
        self._sink: Sink | None = None
        self._backlog: collections.deque[Delivered] = collections.deque()
        self._gone = False
        self._sentinel: tuple[asyncio.AbstractEventLoop, int] | None = None
        self._reader = FrameReader(
            jobs.fileno(), self._on_frame, self._on_closed, MAX_MESSAGE_BYTES
        )
        self._jobs_out = FrameWriter(jobs.fileno(), self._on_write_failed)
        self._control_out = FrameWriter(control.fileno(), self._on_write_failed)

    @property
    def pid(self) -> int:
        """The child's process id (also its process group id)."""
        assert self.process.pid is not None
        return self.process.pid

    @classmethod
    async def start(
        cls, context: BaseContext, config: ChildConfig, lease_until: float = 0.0
    ) -> RunProcess:
        """Start a child (its lease running until `lease_until`) and wait until it is ready."""
        jobs, child_jobs = context.Pipe(duplex=True)
        child_control, control = context.Pipe(duplex=False)
        states = context.RawArray(ctypes.c_char, STATES_BYTES)
        lease = context.RawArray(ctypes.c_double, 2)
        lease[0] = lease_until
        process = context.Process(  # type: ignore[attr-defined]
            target=child_main,
            args=(child_jobs, child_control, states, lease, config),
            name=RUN_PROCESS_NAME,
            daemon=True,
        )
        await asyncio.to_thread(process.start)
        child_jobs.close()
        child_control.close()
        child = cls(process, jobs, control, states, lease)
        child._reader.start()
        child._watch_exit()
        child._jobs_out.start()
        child._control_out.start()
        ready: asyncio.Future[Delivered] = asyncio.get_running_loop().create_future()

        def first(message: Delivered) -> None:
            child.detach()  # what follows (its `Imported`) waits for the first run
            if not ready.done():
                ready.set_result(message)

        child.attach(first)
        message = await asyncio.wait_for(ready, START_TIMEOUT_SEC)
        child.detach()
        if not isinstance(message, Ready):
            raise RuntimeError(f"run process sent {message!r} instead of Ready")
        return child

    def attach(self, sink: Sink) -> None:
        """Deliver the child's messages to `sink`, on the loop (None once it is gone)."""
        self._sink = sink
        while self._backlog and self._sink is sink:
            sink(self._backlog.popleft())

    def detach(self) -> None:
        """Stop delivering; later messages wait for the next `attach`."""
        self._sink = None

    def _watch_exit(self) -> None:
        """Read the rest of the stream once the process exits (the module docstring).

        Only a process from the fork server has a sentinel that its forks do not hold open.
        """
        if not isinstance(self.process, ForkServerProcess):
            return
        self._sentinel = (asyncio.get_running_loop(), self.process.sentinel)
        self._sentinel[0].add_reader(self._sentinel[1], self._on_exit)

    def _on_exit(self) -> None:
        self._unwatch_exit()
        self._reader.finish()

    def _unwatch_exit(self) -> None:
        if self._sentinel is not None:
            loop, sentinel = self._sentinel
            self._sentinel = None
            with contextlib.suppress(ValueError, OSError, RuntimeError):
                loop.remove_reader(sentinel)

    def _on_frame(self, payload: bytes) -> None:
        try:
            message: Delivered = decode_from_child(payload)
        except ProtocolError as exc:
            message = Violation(str(exc))
        self._deliver(message)

    def _on_closed(self, reason: str | None) -> None:
        if reason is not None:
            self._deliver(Violation(reason))
        self._gone = True
        self._deliver(None)

    def _on_write_failed(self, error: OSError) -> None:
        # The reader sees the end of the stream too, and the run ends as its process's death.
        log.warning("run process %s: a message to it could not be sent: %s", self.pid, error)
        self._gone = True

    def _deliver(self, message: Delivered) -> None:
        if self._sink is not None:
            self._sink(message)
        else:
            self._backlog.append(message)

    def send(self, message: RunJob) -> None:
        """Send a job to the child (dropped once it is gone).

        Raises:
            UnsendableJob: the job cannot be pickled; nothing was sent, the child is unchanged.
        """
        try:
            payload = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        except (RecursionError, pickle.PicklingError, TypeError, ValueError) as exc:
            raise UnsendableJob(f"{type(exc).__name__}: {exc}") from None
        if not self._gone:
            self._jobs_out.send(payload)

    def tell(self, message: Control) -> None:
        """Send a control message (cancel, progress request)."""
        if not self._gone:
            self._control_out.send(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))

    def signal_group(self, signum: int) -> None:
        """Signal the child and every process its tasks started."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    async def exit_code(self, timeout: float = 5.0) -> int | None:
        """Reap the child (waiting up to `timeout`); its exit code, negative for a signal."""
        await asyncio.to_thread(self.process.join, timeout)
        return self.process.exitcode

    def extend_lease(self, until: float) -> None:
        """Let the child's run go on until `until` (monotonic), unless renewed."""
        self.lease[0] = until

    def lease_ran_out(self) -> bool:
        """Whether the child stopped its run itself because its lease ran out."""
        return bool(self.lease[1])

    def last_task_states(self) -> dict[str, TaskState]:
        """The task states the child last wrote to its shared buffer (read it once it died)."""
        known = {state.value: state for state in TaskState}
        return {
            name: known[state]
            for name, state in decode_states(bytes(self.states.value)).items()
            if state in known
        }

    def close(self) -> None:
        """Drop the pipes; an idle child then exits by itself."""
        self._gone = True
        self._unwatch_exit()
        with contextlib.suppress(ValueError, OSError, RuntimeError):
            self._reader.stop()
            self._jobs_out.stop()
            self._control_out.stop()
        self.jobs.close()
        self.control.close()
