"""Task threads that outlive a run, for the run process.

pyoco's engine builds a `concurrent.futures.ThreadPoolExecutor` for every run and joins it at
the end, so every run starts (and ends) at least one thread: about a third of the CPU a trivial
run costs. A run process runs one flow at a time, so it can keep one executor for all its runs.
`install()` makes `ThreadPoolExecutor(...)` hand out views of that shared executor: `submit`
goes to the shared threads, and leaving the `with` block waits for this view's futures only,
as pyoco expects, without stopping the threads. Only run processes call `install()`.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

_MAX_WORKERS = 8
"""pyoco's own per-run executor size."""


class _SharedExecutorView:
    """What pyoco sees as its per-run executor."""

    _shared: concurrent.futures.ThreadPoolExecutor | None = None

    def __init__(self, max_workers: int | None = None, *args: Any, **kwargs: Any) -> None:
        if _SharedExecutorView._shared is None:
            _SharedExecutorView._shared = _REAL_EXECUTOR(
                max_workers=_MAX_WORKERS, thread_name_prefix="pyoco-task"
            )
        self._futures: set[concurrent.futures.Future[Any]] = set()

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        assert _SharedExecutorView._shared is not None
        future = _SharedExecutorView._shared.submit(fn, *args, **kwargs)
        self._futures.add(future)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            for future in self._futures:
                future.cancel()
        if wait:
            concurrent.futures.wait(self._futures)

    def __enter__(self) -> _SharedExecutorView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(wait=True)


_REAL_EXECUTOR = concurrent.futures.ThreadPoolExecutor


def install() -> None:
    """Make `concurrent.futures.ThreadPoolExecutor` reuse one set of threads (run process only)."""
    concurrent.futures.ThreadPoolExecutor = _SharedExecutorView  # type: ignore[misc,assignment]
