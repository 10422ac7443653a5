"""OutputCapture without a run process: lines, partial lines, tasks, threads, the limit, batches.

The capture is used here through its methods (`install` would take over pytest's own streams);
tests/worker/test_run_output.py checks it installed, in real run processes.
"""

from __future__ import annotations

import inspect
import io
import logging
import threading
import time

import pyoco.core.engine
import pytest

from pyoco_server.domain.records import LogStream
from pyoco_worker.capture import FLUSH_BYTES, FLUSH_SEC, MAX_LINE_CHARS, OutputCapture
from pyoco_worker.execution import LogBatch, LogLine
from pyoco_worker.protocol import decode_from_child, encode_from_child

OUT, ERR, LOG = LogStream.STDOUT, LogStream.STDERR, LogStream.LOG


class Sent:
    """The batches a capture sent, as the worker would read them (through the protocol)."""

    def __init__(self) -> None:
        self.batches: list[LogBatch] = []
        self.arrived = threading.Condition()

    def __call__(self, batch: LogBatch) -> None:
        decoded = decode_from_child(encode_from_child(batch))
        assert isinstance(decoded, LogBatch)
        with self.arrived:
            self.batches.append(decoded)
            self.arrived.notify_all()

    @property
    def lines(self) -> list[LogLine]:
        return [line for batch in self.batches for line in batch.lines]

    def texts(self) -> list[tuple[str | None, LogStream, str]]:
        return [(line.task, line.stream, line.message) for line in self.lines]

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.batches) >= count, timeout):
                pytest.fail(f"{count} batch(es) did not arrive within {timeout}s")


def capturing(
    max_bytes: int = 1024 * 1024, echo: io.StringIO | None = None, flush_sec: float = FLUSH_SEC
) -> tuple[OutputCapture, Sent]:
    sent = Sent()
    capture = OutputCapture(sent, max_bytes, echo, flush_sec)
    capture.begin("run-1")
    return capture, sent


def test_text_is_cut_into_lines_and_an_unfinished_line_waits_for_the_rest() -> None:
    capture, sent = capturing()
    capture.task_started("a")
    capture.write(OUT, "hello\nwor")
    capture.write(OUT, "ld\n\n")
    capture.write(ERR, "err")
    capture.write(OUT, "tail")
    capture.task_ended("a")
    capture.end()

    assert [batch.run_id for batch in sent.batches] == ["run-1"]
    assert sent.texts() == [
        ("a", OUT, "hello"),
        ("a", OUT, "world"),
        ("a", OUT, ""),
        ("a", OUT, "tail"),
        ("a", ERR, "err"),
    ]


def test_a_line_belongs_to_the_task_of_the_thread_that_wrote_it() -> None:
    capture, sent = capturing()
    capture.task_started("main-task")
    capture.write(OUT, "first half ")

    def other() -> None:
        capture.task_started("b")
        capture.write(OUT, "from b\n")
        capture.task_ended("b")
        capture.write(OUT, "after b ended\n")

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    capture.write(OUT, "second half\n")
    capture.task_ended("main-task")
    capture.write(OUT, "outside any task")
    capture.end()

    assert sent.texts() == [
        ("b", OUT, "from b"),
        (None, OUT, "after b ended"),
        ("main-task", OUT, "first half second half"),
        (None, OUT, "outside any task"),
    ]


def test_a_task_ending_on_another_thread_leaves_this_threads_task_alone() -> None:
    capture, sent = capturing()
    capture.task_started("a")
    threading.Thread(target=capture.task_ended, args=("a",)).start()
    capture.write(OUT, "still a\n")
    capture.end()

    assert sent.texts() == [("a", OUT, "still a")]


def test_nothing_is_taken_outside_a_run_and_a_silent_run_sends_nothing() -> None:
    sent = Sent()
    capture = OutputCapture(sent, 100)
    assert capture.write(OUT, "before\n") is False
    capture.begin("run-1")
    capture.task_started("a")
    capture.task_ended("a")
    capture.end()
    assert capture.write(OUT, "after\n") is False
    assert capture.active is False
    assert sent.batches == []


def test_past_the_limit_every_line_is_dropped_and_counted() -> None:
    capture, sent = capturing(max_bytes=10)
    capture.write(OUT, "12345\n678\n")  # 8 bytes kept
    capture.write(ERR, "abc\n")  # 3 more would be 11: dropped, and so is all that follows
    capture.write(OUT, "x\n")
    capture.write(OUT, "é\n")  # two bytes in UTF-8
    capture.end()

    assert sent.texts() == [(None, OUT, "12345"), (None, OUT, "678")]
    assert sent.batches[-1].dropped == 3 + 1 + 2


def test_a_run_that_only_dropped_still_says_so_and_the_next_run_starts_afresh() -> None:
    capture, sent = capturing(max_bytes=2)
    capture.write(OUT, "too long\n")
    capture.end()
    capture.begin("run-2")
    capture.write(OUT, "ok\n")
    capture.end()

    assert [(batch.run_id, len(batch.lines), batch.dropped) for batch in sent.batches] == [
        ("run-1", 0, 8),
        ("run-2", 1, 0),
    ]


def test_an_endless_line_is_cut_into_pieces_as_it_comes() -> None:
    capture, sent = capturing()
    capture.write(OUT, "x" * (MAX_LINE_CHARS * 2 + 5))
    assert len(sent.batches) == 0
    capture.write(OUT, "yz\n")
    capture.end()

    assert [len(line.message) for line in sent.lines] == [MAX_LINE_CHARS, MAX_LINE_CHARS, 7]
    assert sent.lines[-1].message == "xxxxxyz"


def test_text_that_is_not_utf8_is_made_so() -> None:
    capture, sent = capturing()
    capture.write(OUT, "bad \udcff end\n")
    capture.end()

    assert sent.lines[0].message == "bad ? end"


def test_log_records_keep_level_logger_and_time() -> None:
    capture, sent = capturing()
    record = logging.LogRecord("app.part", logging.WARNING, __file__, 1, "hi %s", ("x",), None)
    capture.task_started("a")
    assert capture.log(record, record.getMessage())
    capture.end()

    [line] = sent.lines
    assert (line.task, line.stream, line.message) == ("a", LOG, "hi x")
    assert (line.level, line.logger, line.ts) == ("WARNING", "app.part", record.created)


def test_a_batch_goes_a_flush_interval_after_its_first_line() -> None:
    capture, sent = capturing(flush_sec=0.2)
    capture.start_sending()
    started = time.monotonic()
    capture.write(OUT, "one\n")
    capture.write(OUT, "two\n")
    sent.wait_for(1)

    assert 0.2 <= time.monotonic() - started < 5.0
    assert sent.texts() == [(None, OUT, "one"), (None, OUT, "two")]
    capture.end()
    assert len(sent.batches) == 1


def test_a_full_batch_goes_at_once() -> None:
    capture, sent = capturing(flush_sec=60.0)
    capture.start_sending()
    lines = FLUSH_BYTES // 99 + 1
    started = time.monotonic()
    capture.write(OUT, ("y" * 99 + "\n") * lines)
    sent.wait_for(1, timeout=20.0)

    assert time.monotonic() - started < 20.0
    assert len(sent.lines) == lines


def test_echo_prefixes_each_kept_line_with_the_run_and_task() -> None:
    echo = io.StringIO()
    capture, _sent = capturing(max_bytes=6, echo=echo)
    capture.task_started("a")
    capture.write(ERR, "shown\nnot kept\n")
    capture.end()

    assert echo.getvalue() == "[run-1 a stderr] shown\n"


def test_pyoco_captures_through_the_class_that_run_processes_replace() -> None:
    # install() swaps pyoco's RunLogCapture for NoRunCapture; if pyoco stops building its
    # capture by that name, its unbounded per-task copy would come back unnoticed.
    assert "RunLogCapture(" in inspect.getsource(pyoco.core.engine.Engine.run)
