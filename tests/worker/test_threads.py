"""The run process's shared task threads (pyoco_worker.threads), and pyoco's use of them."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import threading
import time
from collections.abc import Iterator, Mapping

import pytest
from pyoco import Flow, task
from pyoco.core.engine import Engine
from pyoco.core.models import Task
from pyoco.trace.backend import TraceBackend

from pyoco_worker import threads
from pyoco_worker.threads import REAL_THREAD_POOL, REAL_WAIT, SharedThreadPool


@pytest.fixture
def shared() -> Iterator[None]:
    """`share_task_threads()` for the duration of a test (a run process does it for good)."""
    threads.share_task_threads()
    try:
        yield
    finally:
        concurrent.futures.ThreadPoolExecutor = REAL_THREAD_POOL  # type: ignore[misc]
        concurrent.futures.wait = REAL_WAIT


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


# A lone task on the engine's thread (threads.lone_tasks_here, which engine.py opens around
# pyoco's Engine.run in run processes).


def _engine_run(flow: Flow, timeout: float = 10.0) -> tuple[str, dict[str, object]]:
    """Run `flow` with pyoco on a thread of its own, as a run process's engine thread; that
    thread's name and the results (a regression that never starts a task fails, not hangs)."""
    outcome: dict[str, object] = {}

    def engine() -> None:
        with threads.lone_tasks_here():
            try:
                outcome["results"] = Engine(trace_backend=_Quiet()).run(flow, {}).results
            except BaseException as exc:
                outcome["error"] = exc

    thread = threading.Thread(target=engine, name="engine", daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"the flow did not end within {timeout}s"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return thread.name, dict(outcome["results"])  # type: ignore[call-overload]


def _flow(*tasks: Task, after: Mapping[str, tuple[str, ...]] | None = None) -> Flow:
    """A flow of `tasks`, each after the tasks `after` names for it, else after the one before."""
    flow = Flow(name="f")
    by_name = {node.name: node for node in tasks}
    for index, node in enumerate(tasks):
        flow.add_task(node)
        before = (after or {}).get(node.name, (tasks[index - 1].name,) if index else ())
        for name in before:
            node.dependencies.add(by_name[name])
            by_name[name].dependents.add(node)
    return flow


def test_a_lone_task_runs_on_the_engines_thread(shared: None) -> None:
    first = Task(func=_thread_name, name="first")
    second = Task(func=_thread_name, name="second")
    engine, results = _engine_run(_flow(first, second))
    assert results == {"first": engine, "second": engine}


def test_tasks_that_can_run_together_still_do(shared: None) -> None:
    """Two tasks ready at once meet at a barrier: run one after the other, they could not."""
    barrier = threading.Barrier(2, timeout=5)
    left = Task(func=lambda: (barrier.wait(), _thread_name())[1], name="left")
    right = Task(func=lambda: (barrier.wait(), _thread_name())[1], name="right")
    start = Task(func=lambda: 0, name="start")
    _engine, results = _engine_run(
        _flow(start, left, right, after={"left": ("start",), "right": ("start",)})
    )
    assert all(str(name).startswith("pyoco-task-") for name in (results["left"], results["right"]))


def test_a_lone_task_does_not_hold_up_the_end_of_another(shared: None) -> None:
    """`waiting`, ready while `slow` still runs, waits for `next`, which is ready once `slow`
    ends: run on the engine's thread, `waiting` would keep pyoco from seeing that end."""
    quick_done, next_ran = threading.Event(), threading.Event()

    def slow() -> None:  # ends after `waiting` is ready
        quick_done.wait(5)
        time.sleep(0.1)

    tasks = [
        Task(func=lambda: 0, name="start"),
        Task(func=quick_done.set, name="quick"),
        Task(func=slow, name="slow"),
        Task(func=lambda: next_ran.wait(5), name="waiting"),
        Task(func=next_ran.set, name="next"),
    ]
    after = {
        "quick": ("start",),
        "slow": ("start",),
        "waiting": ("quick",),
        "next": ("slow",),
    }
    _engine, results = _engine_run(_flow(*tasks, after=after))
    assert results["waiting"] is True


def test_a_task_with_a_timeout_runs_on_a_shared_thread_and_times_out(shared: None) -> None:
    """On the engine's thread pyoco could not time it out (it waits for the task to end, as
    leaving its executor's block always did, but fails the run at the timeout)."""
    ran_on: list[str] = []
    release = threading.Timer(1.0, lambda: None)

    def stuck() -> None:
        ran_on.append(_thread_name())
        release.join(5)

    release.start()
    with pytest.raises(TimeoutError, match="exceeded timeout"):
        _engine_run(_flow(Task(func=stuck, name="stuck", timeout_sec=0.2)))
    assert len(ran_on) == 1
    assert ran_on[0].startswith("pyoco-task-"), ran_on


def test_a_pool_made_by_a_task_on_the_engines_thread_is_a_real_one(shared: None) -> None:
    def make_pool() -> bool:
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            return isinstance(pool, REAL_THREAD_POOL) and pool.submit(lambda: 1).result() == 1

    _engine, results = _engine_run(_flow(Task(func=make_pool, name="make_pool")))
    assert results == {"make_pool": True}


def test_a_deferred_call_can_be_cancelled_and_then_never_runs(shared: None) -> None:
    ran = threading.Event()
    with threads.lone_tasks_here():
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    future = executor.submit(ran.set)
    assert future.cancel()
    executor.shutdown(wait=True)
    assert future.cancelled()
    assert not ran.is_set()


def test_a_deferred_call_runs_where_its_result_is_asked_for_or_on_a_thread_with_a_timeout(
    shared: None,
) -> None:
    with threads.lone_tasks_here():
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    barrier = threading.Barrier(2, timeout=5)
    first = executor.submit(lambda: (barrier.wait(), _thread_name())[1])
    second = executor.submit(lambda: (barrier.wait(), _thread_name())[1])  # both start now
    assert first.result().startswith("pyoco-task-")
    assert second.result().startswith("pyoco-task-")
    alone = executor.submit(_thread_name)
    assert alone.result() == threading.current_thread().name
    timed = executor.submit(_thread_name)
    assert timed.result(timeout=5).startswith("pyoco-task-")
    failing = executor.submit(int, "x")
    assert isinstance(failing.exception(), ValueError)
    left = executor.submit(_thread_name)
    executor.shutdown(wait=True)  # starts what nothing asked for
    assert left.result(0).startswith("pyoco-task-")
