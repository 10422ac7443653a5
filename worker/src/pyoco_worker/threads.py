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

**A lone task runs on the engine's thread.** Handing a task to a pool thread and waiting for it
costs two thread wake-ups: a fifth to a third of a trivial run's CPU, and of its time when idle
(bench/run_process.py). While
`lone_tasks_here()` is open (engine.py, around pyoco's `Engine.run`), an executor that thread
makes defers each call (`_Deferred`, a `concurrent.futures.Future`) until it is needed:

- a second call submitted before the first started: both go to the shared threads, which run
  them at once, as before (pyoco submits every runnable task, then waits);
- `concurrent.futures.wait` on the deferred call alone, without a timeout, runs it on the
  waiting thread; with a timeout (pyoco passes one when a task has `timeout_sec`) or with other
  futures (other tasks still running, whose ends must not wait for it), it goes to the shared
  threads first (`share_task_threads` installs this `wait`);
- `result()` and `exception()` do the same; `shutdown` starts what is left; a deferred call
  can be cancelled like a queued one.

A task run there counts as being on a task thread: a pool it makes is a real one.

tests/worker/test_threads.py checks this against pyoco's engine: if an upgrade of pyoco stops
creating its executor through `concurrent.futures.ThreadPoolExecutor`, or waiting on it through
`concurrent.futures.wait`, the test fails.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

REAL_THREAD_POOL = concurrent.futures.ThreadPoolExecutor
"""The standard library's executor, kept before `share_task_threads` replaces the name."""

REAL_WAIT = concurrent.futures.wait
"""The standard library's `wait`, kept before `share_task_threads` replaces the name."""

_PREFIX = "pyoco-task-"
_pools: dict[int, concurrent.futures.ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()
_here = threading.local()
"""`engine`: this thread runs pyoco's engine (`lone_tasks_here`); `task`: it runs a task."""


@contextlib.contextmanager
def lone_tasks_here() -> Iterator[None]:
    """While open, executors made on this thread run a lone task on it (module docstring)."""
    _here.engine = True
    try:
        yield
    finally:
        _here.engine = False


def _on_task_thread() -> bool:
    return threading.current_thread().name.startswith(_PREFIX) or getattr(_here, "task", False)


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
        if initialized or _on_task_thread():
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
        self._defers = getattr(_here, "engine", False) and not _on_task_thread()
        self._deferred: list[_Deferred[Any]] = []

    def submit(
        self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[T]:
        """Run `fn(*args, **kwargs)` on a shared thread (or, deferred, where it is waited for)."""
        together: list[_Deferred[Any]] = []
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if self._defers:
                deferred = _Deferred(self, fn, args, kwargs)
                if self._deferred:  # a second call before the first started
                    together = [*self._deferred, deferred]
                self._deferred.append(deferred)
                future: concurrent.futures.Future[T] = deferred
            else:
                future = _shared(self._max_workers).submit(fn, *args, **kwargs)
            self._futures.add(future)
        future.add_done_callback(self._forget)
        for call in together:  # they run at once, on the shared threads
            call.start(here=False)
        return future

    def _take(self, deferred: _Deferred[Any]) -> bool:
        """Whether `deferred` was still waiting to start (it no longer is)."""
        with self._lock:
            if deferred not in self._deferred:
                return False
            self._deferred.remove(deferred)
            return True

    def _dispatch(self, deferred: _Deferred[Any]) -> None:
        _shared(self._max_workers).submit(deferred.run)

    def _forget(self, future: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._futures.discard(future)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No new calls; cancel this executor's pending calls if asked, wait for the rest."""
        with self._lock:
            self._shutdown = True
            futures = set(self._futures)
            deferred = list(self._deferred)
        if cancel_futures:
            for future in futures:
                future.cancel()
        for waiting in deferred:
            waiting.start(here=False)
        if wait:
            REAL_WAIT(futures)


class _Deferred(concurrent.futures.Future[T]):
    """A call of a `SharedThreadPool` that has not started: it starts where it is needed."""

    def __init__(
        self,
        executor: SharedThreadPool,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        super().__init__()
        self._executor = executor
        self._call = (fn, args, kwargs)

    def start(self, *, here: bool) -> None:
        """Run the call now on this thread, or hand it to the shared threads (once)."""
        if not self._executor._take(self):
            return
        if here:
            self.run(as_task=True)
        else:
            self._executor._dispatch(self)

    def run(self, *, as_task: bool = False) -> None:
        """Run the call (unless it was cancelled) and settle the future with what it gave."""
        if not self.set_running_or_notify_cancel():
            return
        fn, args, kwargs = self._call
        engine, task = getattr(_here, "engine", False), getattr(_here, "task", False)
        if as_task:
            _here.engine, _here.task = False, True
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # as the standard executor: the caller gets it
            self.set_exception(exc)
        else:
            self.set_result(result)
        finally:
            if as_task:
                _here.engine, _here.task = engine, task

    def result(self, timeout: float | None = None) -> T:
        """The call's result, once it ran (here, if nothing else runs it and no timeout)."""
        self.start(here=timeout is None)
        return super().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The call's exception, once it ran (here, if nothing else runs it and no timeout)."""
        self.start(here=timeout is None)
        return super().exception(timeout)


def wait(
    fs: Iterable[concurrent.futures.Future[Any]],
    timeout: float | None = None,
    return_when: str = concurrent.futures.ALL_COMPLETED,
) -> Any:
    """`concurrent.futures.wait`, starting the deferred calls among `fs` first.

    A deferred call waited for alone, without a timeout, runs on this thread; otherwise each
    goes to the shared threads, so that a timeout can pass and the other futures' ends are seen
    when they happen.
    """
    fs = set(fs)
    deferred = [future for future in fs if isinstance(future, _Deferred)]
    for future in deferred:
        future.start(here=timeout is None and len(fs) == 1)
    return REAL_WAIT(fs, timeout, return_when)


def share_task_threads() -> None:
    """Make `ThreadPoolExecutor(...)` a `SharedThreadPool` in this process (run processes only)."""
    concurrent.futures.ThreadPoolExecutor = SharedThreadPool  # type: ignore[misc,assignment]
    concurrent.futures.wait = wait
