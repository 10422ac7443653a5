"""flow.yaml uploads parsed off the event loop, a bounded number at a time per process.

Parsing a file of PYOCO_WORKFLOW_YAML_MAX_BYTES takes up to half a second of CPU. On the event
loop it would stall every other request of the gateway process; on a thread it still holds the
GIL, and the loop waited up to 165 ms for it (measured: `GET /health` during four such parses).
So parses run in PYOCO_WORKFLOW_PARSE_CONCURRENCY child processes of the gateway, started when
the first uploads come, at a lower CPU priority than the gateway (nice +10), so that on a busy
machine requests are served before parses go on, and killed by the kernel when the gateway
process ends (uvicorn ends by re-raising SIGTERM, which skips the executor's own shutdown).
More uploads wait for a free process (a cancelled request stops waiting). A slot is freed when
its parse ends, not when its request gives up, so the bound holds even for parses whose client
went away. A parser process that dies fails its parse (422) and the pool is started again.

A file parsed before is not parsed again: validated files are kept by the SHA-256 of their
bytes (`ParsedFlows`, least recently used dropped first, bounded in files and bytes). Parsing
depends on the bytes alone, so a hit answers exactly what a parse would; every check that depends
on the caller or the deployment (size, allowed callables, params) runs after it, hit or miss.
Only valid files are kept: an invalid one is parsed (and refused) every time.

The processes are started with multiprocessing's `spawn`, which imports the main module again:
a program embedding the gateway needs the usual `if __name__ == "__main__":` guard.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import ctypes
import hashlib
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool

from pyoco_server.domain.errors import InvalidWorkflow
from pyoco_server.domain.workflow import Workflow, parse_workflow

log = logging.getLogger(__name__)

_NICENESS = 10
_PR_SET_PDEATHSIG = 1


INLINE_MAX_BYTES = 16 * 1024
"""Files up to this size are parsed on the event loop: well under a millisecond for a
typical flow.yaml, far less than a round trip to a parser process."""


CACHE_MAX_FILES = 512
CACHE_MAX_BYTES = 16 * 1024 * 1024
"""Bounds of the parsed files kept (counting each file's text)."""


class ParsedFlows:
    """Validated flow.yaml files by the SHA-256 of their bytes; the least recently used go first."""

    def __init__(self, max_files: int = CACHE_MAX_FILES, max_bytes: int = CACHE_MAX_BYTES) -> None:
        self._max_files = max_files
        self._max_bytes = max_bytes
        self._bytes = 0
        self._kept: collections.OrderedDict[bytes, Workflow] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, digest: bytes) -> Workflow | None:
        """The file with this digest, if kept (it becomes the most recently used)."""
        workflow = self._kept.get(digest)
        if workflow is not None:
            self._kept.move_to_end(digest)
        return workflow

    def put(self, digest: bytes, workflow: Workflow) -> None:
        """Keep a validated file, dropping the least recently used beyond the bounds."""
        if workflow.size > self._max_bytes or digest in self._kept:
            return
        self._kept[digest] = workflow
        self._bytes += workflow.size
        while len(self._kept) > self._max_files or self._bytes > self._max_bytes:
            _, dropped = self._kept.popitem(last=False)
            self._bytes -= dropped.size


class WorkflowParser:
    """Parses flow.yaml uploads in at most `concurrency` child processes at once."""

    def __init__(self, concurrency: int, parsed: ParsedFlows | None = None) -> None:
        self._concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._processes: concurrent.futures.ProcessPoolExecutor | None = None
        self._parsed = parsed if parsed is not None else ParsedFlows()

    async def parse(self, raw: bytes) -> Workflow:
        """`parse_workflow(raw)`, kept, or parsed in a child process unless it is small.

        Raises:
            InvalidWorkflow: as `parse_workflow`.
        """
        digest = hashlib.sha256(raw).digest()
        workflow = self._parsed.get(digest)
        if workflow is None:
            workflow = await self._parse(raw)
            self._parsed.put(digest, workflow)
        return workflow

    async def _parse(self, raw: bytes) -> Workflow:
        if len(raw) <= INLINE_MAX_BYTES:
            return parse_workflow(raw)
        await self._slots.acquire()
        loop = asyncio.get_running_loop()
        try:
            parsing = self._submit(raw)
        except BaseException:
            self._slots.release()
            raise
        parsing.add_done_callback(lambda _: _call_soon(loop, self._slots.release))
        try:
            return await asyncio.wrap_future(parsing)
        except BrokenProcessPool:
            log.error("a flow.yaml parser process died; starting new ones")
            self._processes = None
            raise InvalidWorkflow("invalid_yaml", "the parser failed on this file") from None

    def _submit(self, raw: bytes) -> concurrent.futures.Future[Workflow]:
        try:
            return self._pool().submit(parse_workflow, raw)
        except BrokenProcessPool:  # a process died during another parse
            self._processes = None
            return self._pool().submit(parse_workflow, raw)

    def _pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._processes is None:
            self._processes = concurrent.futures.ProcessPoolExecutor(
                max_workers=self._concurrency,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_prepare_parser,
                initargs=(os.getpid(),),
            )
        return self._processes


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    """`callback` on `loop`, from another thread; nothing once the loop is closed."""
    with contextlib.suppress(RuntimeError):  # closed: the process ends, and its slots with it
        loop.call_soon_threadsafe(callback)


def _prepare_parser(gateway_pid: int) -> None:
    """Run in each parser process: die with the gateway, and let it have the CPU first."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != gateway_pid:  # the gateway died before the line above
        os._exit(1)
    os.nice(_NICENESS)
