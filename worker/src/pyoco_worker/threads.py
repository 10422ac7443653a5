"""Task threads that outlive a run: the run process's shared thread pools.

pyoco's engine builds a `concurrent.futures.ThreadPoolExecutor(max_workers=8)` for every run and
joins it at the end, so every run starts (and ends) at least one thread: about a third of the
CPU a trivial run costs. A run process executes one flow at a time, so it can keep the threads.

`share_task_threads()`, called once by the run process at start (child.py) and nowhere else,
makes `concurrent.futures.ThreadPoolExecutor(...)` return a `SharedThreadPool`: a real
`concurrent.futures.Executor` whose `submit` runs on long-lived threads shared by every executor
of the same `max_workers` (so each executor still runs at most `max_workers` calls at once), and
whose `shutdown` (or the end of a `with` block) waits for, or cancels, this executor's own futures
only, as pyoco expects, without stopping the threads. `map` comes from `Executor`. Two cases get a
real `ThreadPoolExecutor`: an executor created on a shared thread (task code making a pool of its
own, which could otherwise wait on threads its caller holds) and one asking for an
`initializer` (shared threads cannot be initialised per executor). This affects task code in run processes too, which is the point:
libraries that create a thread pool per call get the same saving.

tests/worker/test_threads.py checks this against pyoco's engine: if an upgrade of pyoco stops
creating its executor through `concurrent.futures.ThreadPoolExecutor`, the test fails.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

REAL_THREAD_POOL = concurrent.futures.ThreadPoolExecutor
"""The standard library's executor, kept before `share_task_threads` replaces the name."""

_PREFIX = "pyoco-task-"
_pools: dict[int, concurrent.futures.ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _default_workers() -> int:
    """The standard library's default `max_workers`."""
    return min(32, (os.cpu_count() or 1) + 4)


def _shared(max_workers: int) -> concurrent.futures.ThreadPoolExecutor:
    with _pools_lock:
        pool = _pools.get(max_workers)
        if pool is None:
            pool = _pools[max_workers] = REAL_THREAD_POOL(
                max_workers=max_workers, thread_name_prefix=f"{_PREFIX}{max_workers}"
            )
        return pool


class SharedThreadPool(concurrent.futures.Executor):
    """An executor on the shared threads of its size (see the module docstring)."""

    def __new__(cls, max_workers: int | None = None, *args: Any, **kwargs: Any) -> Any:
        """A shared pool; a real `ThreadPoolExecutor` when nested or initialised."""
        initialized = kwargs.get("initializer") is not None or (
            len(args) >= 2 and args[1] is not None
        )
        if initialized or threading.current_thread().name.startswith(_PREFIX):
            return REAL_THREAD_POOL(max_workers, *args, **kwargs)
        return super().__new__(cls)

    def __init__(
        self,
        max_workers: int | None = None,
        thread_name_prefix: str = "",
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        if max_workers is not None and max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        self._max_workers = max_workers or _default_workers()
        self._futures: set[concurrent.futures.Future[Any]] = set()
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(
        self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[T]:
        """Run `fn(*args, **kwargs)` on a shared thread."""
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            future = _shared(self._max_workers).submit(fn, *args, **kwargs)
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._futures.discard(future)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No new calls; cancel this executor's pending calls if asked, wait for the rest."""
        with self._lock:
            self._shutdown = True
            futures = set(self._futures)
        if cancel_futures:
            for future in futures:
                future.cancel()
        if wait:
            concurrent.futures.wait(futures)


def share_task_threads() -> None:
    """Make `ThreadPoolExecutor(...)` a `SharedThreadPool` in this process (run processes only)."""
    concurrent.futures.ThreadPoolExecutor = SharedThreadPool  # type: ignore[misc,assignment]
