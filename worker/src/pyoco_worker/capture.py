"""What tasks print and log in a run process, captured line by line for the run's log.

`OutputCapture` is installed once, when a run process starts (child.py), and then:

- `sys.stdout` and `sys.stderr` are `_Stream`s. While a run executes, what is written to them
  is cut into lines (per thread and stream; a line without its newline waits for the rest, and
  is taken as it is when its task ends, or the run) and kept for the run's log; outside a run
  it goes to the original stream, as before. Programs the tasks start, and writes to the file
  descriptors themselves, still go to the worker's own stdout and stderr;
- a handler on the root logger takes every record of a run (with its level and logger, the
  formatted message and traceback); the root logger's level is lowered to INFO if it was
  higher, so `log.info` in a task is kept. Outside a run, records of WARNING and above go to
  stderr as Python's last-resort handler would print them;
- pyoco's own capture (which keeps a copy of every task's output in memory, without bound) is
  replaced by one that does nothing.

A line belongs to the task running on the thread that wrote it: pyoco runs each task on one
thread of its executor and calls the trace callbacks of the task on that thread, which tell
`task_started`/`task_ended` (engine.py). Lines from other threads have no task.

A process a task forks (multiprocessing's fork) captures nothing: what it writes goes to the
original streams.

A run keeps at most `max_bytes` of lines (their UTF-8 text); from the first line that does not
fit, every line is dropped and only counted (`LogBatch.dropped`; the worker writes the one
`system` record that says so). Lines are sent to the worker in `LogBatch`es by a thread of
their own, `FLUSH_SEC` after the first line waiting or at once past `FLUSH_BYTES`, so task
threads never wait on the pipe; `end` sends the rest before the run's `Finished`. A run that
writes nothing sends nothing: its only cost is a few dictionary operations per task.

With `echo` (the worker's PYOCO_LOG_LEVEL=debug), each kept line is also written to the
original stderr as `[run_id task stream] line`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO

import pyoco.core.engine

from pyoco_server.domain.records import LogStream
from pyoco_worker.execution import LogBatch, LogLine

FLUSH_SEC = 0.1
"""How long the first line waiting may wait before its batch is sent."""

FLUSH_BYTES = 64 * 1024
"""A batch is sent at once when its lines reach this size."""

MAX_LINE_CHARS = 16 * 1024
"""A longer line is cut into lines of this length (so a record always fits a message)."""

Send = Callable[[LogBatch], None]


class OutputCapture:
    """A run process's capture of task output (see the module docstring)."""

    def __init__(
        self,
        send: Send,
        max_bytes: int,
        echo: TextIO | None = None,
        flush_sec: float = FLUSH_SEC,
    ) -> None:
        self._send = send
        self._flush_sec = flush_sec
        self._max_bytes = max_bytes
        self._echo = echo
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._send_lock = threading.Lock()
        """Held from taking a batch to having sent it, so batches leave in order."""
        self._run_id: str | None = None
        self._tasks: dict[int, str] = {}
        self._partial: dict[tuple[int, LogStream], str] = {}
        self._pending: list[LogLine] = []
        self._pending_bytes = 0
        self._used = 0
        self._dropped = 0

    def install(self) -> None:
        """Capture this process's output from now on (once per process)."""
        sys.stdout = _Stream(self, LogStream.STDOUT, sys.stdout)
        sys.stderr = _Stream(self, LogStream.STDERR, sys.stderr)
        root = logging.getLogger()
        root.addHandler(_Handler(self))
        if root.level > logging.INFO:
            root.setLevel(logging.INFO)
        pyoco.core.engine.RunLogCapture = NoRunCapture
        os.register_at_fork(after_in_child=self._forked)
        self.start_sending()

    def _forked(self) -> None:
        """In a process a task forked: capture nothing (its streams are the original ones').

        The locks are made anew: another thread of the run process may have held one.
        """
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._send_lock = threading.Lock()
        self._run_id = None
        self._tasks.clear()
        self._partial.clear()
        self._pending = []

    def start_sending(self) -> None:
        """Start the thread that sends batches as lines come (`install` does)."""
        threading.Thread(target=self._flush_loop, name="pyoco-child-logs", daemon=True).start()

    @property
    def active(self) -> bool:
        """Whether a run is being captured."""
        return self._run_id is not None

    def begin(self, run_id: str) -> None:
        """Capture `run_id` until `end`."""
        with self._lock:
            self._run_id = run_id
            self._used = self._dropped = 0

    def end(self) -> None:
        """Stop capturing; send every line of the run not sent yet (partial ones included)."""
        with self._send_lock:
            with self._lock:
                for (ident, stream), text in list(self._partial.items()):
                    self._add(LogLine(self._tasks.get(ident), stream, text, time.time()))
                run_id, lines, dropped = self._run_id, self._take(), self._dropped
                self._run_id = None
                self._tasks.clear()
                self._partial.clear()
            if run_id is not None and (lines or dropped):
                self._deliver(LogBatch(run_id, tuple(lines), dropped))

    def task_started(self, name: str) -> None:
        """Task `name` runs on this thread (from now until `task_ended`)."""
        ident = threading.get_ident()
        with self._lock:
            self._tasks[ident] = name

    def task_ended(self, name: str) -> None:
        """Task `name` ended on this thread: its unfinished lines are taken as they are."""
        ident = threading.get_ident()
        with self._lock:
            if self._tasks.get(ident) != name:
                return  # another thread's task (pyoco reports some errors from its scheduler)
            for stream in (LogStream.STDOUT, LogStream.STDERR):
                text = self._partial.pop((ident, stream), None)
                if text is not None:
                    self._add(LogLine(name, stream, text, time.time()))
            del self._tasks[ident]

    def write(self, stream: LogStream, text: str) -> bool:
        """Take `text` written to `stream`; False when no run is captured (not taken)."""
        if self._run_id is None:
            return False
        ident = threading.get_ident()
        with self._lock:
            if self._run_id is None:
                return False
            key = (ident, stream)
            lines = (self._partial.pop(key, "") + text).split("\n")
            rest = lines.pop()
            if len(rest) >= MAX_LINE_CHARS:  # an endless line: its whole pieces go now
                cut = len(rest) - len(rest) % MAX_LINE_CHARS
                lines.append(rest[:cut])
                rest = rest[cut:]
            if rest:
                self._partial[key] = rest
            now = time.time()
            task = self._tasks.get(ident)
            for line in lines:
                for piece in _chunks(line):
                    self._add(LogLine(task, stream, piece, now))
        return True

    def log(self, record: logging.LogRecord, message: str) -> bool:
        """Take a logging record; False when no run is captured (not taken)."""
        if self._run_id is None:
            return False
        ident = threading.get_ident()
        with self._lock:
            if self._run_id is None:
                return False
            line = LogLine(
                self._tasks.get(ident),
                LogStream.LOG,
                message,
                record.created,
                record.levelname,
                record.name,
            )
            self._add(line)
        return True

    def _add(self, line: LogLine) -> None:
        """Keep `line` for the run, or count it as dropped past the limit (lock held)."""
        message, size = _clean(line.message)
        if self._dropped or self._used + size > self._max_bytes:
            self._dropped += size
            return
        self._used += size
        if message is not line.message:
            line = LogLine(line.task, line.stream, message, line.ts, line.level, line.logger)
        self._pending.append(line)
        self._pending_bytes += size
        if len(self._pending) == 1 or self._pending_bytes >= FLUSH_BYTES:
            self._ready.notify()
        if self._echo is not None:
            self._echo_line(line)

    def _echo_line(self, line: LogLine) -> None:
        assert self._echo is not None
        prefix = f"[{self._run_id} {line.task or '-'} {line.stream}]"
        with contextlib.suppress(OSError, ValueError):
            self._echo.write(f"{prefix} {line.message}\n")

    def _take(self) -> list[LogLine]:
        lines, self._pending, self._pending_bytes = self._pending, [], 0
        return lines

    def _flush_loop(self) -> None:
        """The sending thread: a batch `flush_sec` after its first line, or once it is full."""
        while True:
            with self._lock:
                while not self._pending:
                    self._ready.wait()
                deadline = time.monotonic() + self._flush_sec
                while self._pending and self._pending_bytes < FLUSH_BYTES:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._ready.wait(left)
            self._flush()

    def _flush(self) -> None:
        with self._send_lock:
            with self._lock:
                run_id, lines, dropped = self._run_id, self._take(), self._dropped
            if run_id is not None and lines:
                self._deliver(LogBatch(run_id, tuple(lines), dropped))

    def _deliver(self, batch: LogBatch) -> None:
        # A pipe that fails means the worker is gone; the run process ends with it.
        with contextlib.suppress(OSError, ValueError, TypeError):
            self._send(batch)


class _Stream:
    """`sys.stdout` or `sys.stderr` of a run process: captured during runs, else the original."""

    def __init__(self, capture: OutputCapture, stream: LogStream, original: TextIO) -> None:
        self._capture = capture
        self._stream = stream
        self.original = original

    def write(self, text: str) -> int:
        """Write `text` (to the run's log while a run is captured)."""
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self._capture.write(self._stream, text):
            return len(text)
        return self.original.write(text)

    def writelines(self, lines: Iterable[str]) -> None:
        """Write each of `lines`."""
        for text in lines:
            self.write(text)

    def flush(self) -> None:
        """Flush the original stream."""
        self.original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


class _Handler(logging.Handler):
    """The root logger's handler in a run process."""

    def __init__(self, capture: OutputCapture) -> None:
        super().__init__(logging.NOTSET)
        self._capture = capture
        self._formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        """Keep `record` for the run; outside a run, print warnings as Python would."""
        try:
            if not self._capture.active:
                if record.levelno >= logging.WARNING and logging.lastResort is not None:
                    logging.lastResort.handle(record)
                return
            if not self._capture.log(record, self._message(record)):
                return
        except Exception:
            self.handleError(record)

    def _message(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self._formatter.formatException(record.exc_info)
        if record.stack_info:
            message += "\n" + self._formatter.formatStack(record.stack_info)
        return message


class NoRunCapture:
    """Stands in for pyoco's `RunLogCapture` in run processes: captures nothing.

    pyoco's would redirect the process's streams for each run and keep a copy of each task's
    output in memory, however large; `OutputCapture` does the capturing instead.
    """

    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        """Nothing to keep."""

    @contextlib.contextmanager
    def activate(self) -> Iterator[NoRunCapture]:
        """Nothing to redirect."""
        yield self

    @contextlib.contextmanager
    def capture_task(self) -> Iterator[tuple[None, None]]:
        """No per-task copy (pyoco then records no logs of its own)."""
        yield None, None


def _clean(text: str) -> tuple[str, int]:
    """`text` as valid UTF-8 (lone surrogates become '?') and its size (`message_bytes`)."""
    if text.isascii():
        return text, len(text)
    data = text.encode("utf-8", "replace")
    return data.decode("utf-8"), len(data)


def _chunks(line: str) -> list[str]:
    """`line` cut into pieces of at most `MAX_LINE_CHARS` characters."""
    if len(line) <= MAX_LINE_CHARS:
        return [line]
    return [line[start : start + MAX_LINE_CHARS] for start in range(0, len(line), MAX_LINE_CHARS)]
