"""The run process's shared task threads (pyoco_worker.threads), and pyoco's use of them."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import threading
import time
from collections.abc import Iterator

import pytest
from pyoco import Flow, task
from pyoco.core.engine import Engine
from pyoco.trace.backend import TraceBackend

from pyoco_worker import threads
from pyoco_worker.threads import REAL_THREAD_POOL, SharedThreadPool


@pytest.fixture
def shared() -> Iterator[None]:
    """`share_task_threads()` for the duration of a test (a run process does it for good)."""
    threads.share_task_threads()
    try:
        yield
    finally:
        concurrent.futures.ThreadPoolExecutor = REAL_THREAD_POOL  # type: ignore[misc]


def test_map_submit_and_results_work_like_the_standard_executor(shared: None) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as executor:
        assert isinstance(executor, SharedThreadPool)
        assert list(executor.map(lambda x: x * x, range(10))) == [x * x for x in range(10)]
        assert executor.submit(pow, 2, 10).result() == 1024


def test_exceptions_reach_the_caller(shared: None) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
        future = executor.submit(int, "not a number")
        with pytest.raises(ValueError, match="invalid literal"):
            future.result()


def test_max_workers_bounds_how_many_calls_run_at_once(shared: None) -> None:
    running = 0
    most = 0
    lock = threading.Lock()

    def work(_: int) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
        list(executor.map(work, range(8)))
    assert most == 2


def test_leaving_the_block_waits_for_this_executors_calls_only(shared: None) -> None:
    other_release = threading.Event()
    other = concurrent.futures.ThreadPoolExecutor(max_workers=4)
    slow = other.submit(other_release.wait, 5)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as executor:
        done = executor.submit(lambda: "mine")
    assert done.result() == "mine"
    assert time.monotonic() - started < 1  # did not wait for the other executor's call
    assert not slow.done()
    other_release.set()
    assert slow.result(5) is True
    other.shutdown()


def test_threads_outlive_the_executor_that_started_them(shared: None) -> None:
    def name() -> str:
        return threading.current_thread().name

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as first:
        first_thread = first.submit(name).result()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as second:
        assert second.submit(name).result() == first_thread


def test_shutdown_can_cancel_pending_calls_and_refuses_new_ones(shared: None) -> None:
    started, release = threading.Event(), threading.Event()

    def hold() -> bool:
        started.set()
        return release.wait(5)

    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    busy = executor.submit(hold)
    assert started.wait(5)
    queued = executor.submit(lambda: "never")
    executor.shutdown(wait=False, cancel_futures=True)
    assert queued.cancelled()
    release.set()
    assert busy.result(5) is True
    with pytest.raises(RuntimeError, match="after shutdown"):
        executor.submit(lambda: None)


def test_a_pool_made_on_a_shared_thread_is_a_real_one(shared: None) -> None:
    """Task code that makes its own pool must not wait on threads its caller holds."""

    def nested() -> list[int]:
        inner = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        assert isinstance(inner, REAL_THREAD_POOL)
        with inner:
            return list(inner.map(lambda x: x + 1, range(3)))

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as outer:
        assert outer.submit(nested).result(5) == [1, 2, 3]


def test_an_initializer_gets_a_real_executor(shared: None) -> None:
    seen: list[str] = []
    executor = concurrent.futures.ThreadPoolExecutor(
        max_workers=1, initializer=seen.append, initargs=("init",)
    )
    assert isinstance(executor, REAL_THREAD_POOL)
    with executor:
        executor.submit(lambda: None).result()
    assert seen == ["init"]


def test_invalid_max_workers_is_refused_as_by_the_standard_executor(shared: None) -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        concurrent.futures.ThreadPoolExecutor(max_workers=0)


class _Quiet(TraceBackend):  # type: ignore[misc]
    def on_flow_start(self, flow_name: str, run_id: str | None = None) -> None: ...
    def on_flow_end(self, flow_name: str) -> None: ...
    def on_node_start(self, node_name: str) -> None: ...
    def on_node_end(self, node_name: str, duration_ms: float) -> None: ...
    def on_node_error(self, node_name: str, error: Exception) -> None: ...


def _thread_name() -> str:
    return threading.current_thread().name


def _pyoco_task_thread(_queue: multiprocessing.Queue[str]) -> None:
    threads.share_task_threads()

    @task
    def where() -> str:
        return _thread_name()

    flow = Flow(name="where")
    flow >> where
    context = Engine(trace_backend=_Quiet()).run(flow, {})
    _queue.put(str(context.results["where"]))


def test_pyoco_runs_tasks_on_the_shared_threads() -> None:
    """Fails loudly if a pyoco upgrade stops making its executor with ThreadPoolExecutor."""
    queue: multiprocessing.Queue[str] = multiprocessing.get_context("spawn").Queue()
    process = multiprocessing.get_context("spawn").Process(target=_pyoco_task_thread, args=(queue,))
    process.start()
    name = queue.get(timeout=30)
    process.join(10)
    assert name.startswith("pyoco-task-"), (
        f"pyoco ran its task on thread {name!r}: it no longer creates its per-run executor "
        "through concurrent.futures.ThreadPoolExecutor, so run processes start a thread pool "
        "per run again (see pyoco_worker/threads.py)"
    )
