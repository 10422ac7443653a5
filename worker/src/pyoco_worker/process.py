"""`RunProcess`: the worker's handle on one warm run process (its pipes and state buffer)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any

from pyoco_server.domain.snapshot import TaskState
from pyoco_worker.child import ChildConfig, child_main, decode_states
from pyoco_worker.protocol import Control, FromChild, Ready, RunJob

START_TIMEOUT_SEC = 60.0
"""How long a new run process gets to say it is ready."""

STATES_BYTES = 16384
"""Size of a run process's shared task-state buffer (see child.py)."""

Sink = Callable[[FromChild | None], None]
"""Receives a run process's messages, and None once it is gone."""


class RunProcess:
    """One warm child process: its pipes (jobs, control) and its task-state buffer."""

    def __init__(
        self, process: BaseProcess, jobs: Connection, control: Connection, states: Any
    ) -> None:
        self.process = process
        self.jobs = jobs
        self.control = control
        self.states = states
        self.code_key: tuple[str, ...] | None = None
        """The registry wheels this process has run with (None: it has run nothing yet)."""
        self._sink: Sink | None = None
        self._backlog: collections.deque[FromChild | None] = collections.deque()
        self._gone = False

    @property
    def pid(self) -> int:
        """The child's process id (also its process group id)."""
        assert self.process.pid is not None
        return self.process.pid

    @classmethod
    async def start(cls, context: BaseContext, config: ChildConfig) -> RunProcess:
        """Start a child and wait until it is ready to run."""
        jobs, child_jobs = context.Pipe(duplex=True)
        child_control, control = context.Pipe(duplex=False)
        states = context.RawArray(ctypes.c_char, STATES_BYTES)
        process = context.Process(  # type: ignore[attr-defined]
            target=child_main,
            args=(child_jobs, child_control, states, config),
            name="pyoco-run",
            daemon=True,
        )
        await asyncio.to_thread(process.start)
        child_jobs.close()
        child_control.close()
        child = cls(process, jobs, control, states)
        asyncio.get_running_loop().add_reader(jobs.fileno(), child._on_readable)
        ready: asyncio.Future[FromChild | None] = asyncio.get_running_loop().create_future()

        def first(message: FromChild | None) -> None:
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

    def _on_readable(self) -> None:
        try:
            message: FromChild | None = self.jobs.recv()
        except (EOFError, OSError):
            message = None
            self._gone = True
            asyncio.get_running_loop().remove_reader(self.jobs.fileno())
        if self._sink is not None:
            self._sink(message)
        else:
            self._backlog.append(message)

    def send(self, message: RunJob) -> None:
        """Send a job to the child (ignored once it is gone)."""
        if not self._gone:
            with contextlib.suppress(OSError):
                self.jobs.send(message)

    def tell(self, message: Control) -> None:
        """Send a control message (cancel, progress request)."""
        if not self._gone:
            with contextlib.suppress(OSError):
                self.control.send(message)

    def signal_group(self, signum: int) -> None:
        """Signal the child and every process its tasks started."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    async def exit_code(self, timeout: float = 5.0) -> int | None:
        """Reap the child (waiting up to `timeout`); its exit code, negative for a signal."""
        await asyncio.to_thread(self.process.join, timeout)
        return self.process.exitcode

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
        if not self._gone:
            self._gone = True
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self.jobs.fileno())
        self.jobs.close()
        self.control.close()
