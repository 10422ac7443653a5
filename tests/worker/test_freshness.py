"""CodeWatch: which run processes may take a run once task files changed, and the pins."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from pyoco_worker import freshness
from pyoco_worker.freshness import CodeWatch, Loaded
from pyoco_worker.taskfiles import CodeFile, stamp_of
from tests.support.fakes import Clock


def loaded_file(path: Path, text: str = "x = 1\n") -> CodeFile:
    """`path` written with `text`, as a run process that loaded it reports it."""
    path.write_text(text)
    stamp = stamp_of(str(path))
    assert stamp is not None
    return CodeFile(path.stem, str(path), *stamp, source=text)


def change(file: CodeFile) -> None:
    os.utime(file.path, ns=(file.mtime_ns + 1000, file.mtime_ns + 1000))


def test_with_reload_a_process_whose_file_changed_is_not_usable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    watch = CodeWatch(reload=True)
    mine, other = Loaded(), Loaded()
    file = loaded_file(tmp_path / "tasks.py")
    watch.learn(mine, None, [file])
    watch.learn(other, None, [loaded_file(tmp_path / "others.py")])
    assert [watch.usable(mine), watch.usable(other), watch.usable(Loaded())] == [True] * 3

    change(file)

    with caplog.at_level(logging.INFO, logger=freshness.__name__):
        assert not watch.usable(mine)
        assert not watch.usable(mine)
    assert watch.usable(other), "it did not load the file"
    assert watch.usable(Loaded()), "a fresh process loads it from disk"
    assert [record.getMessage() for record in caplog.records] == [
        f"task module tasks changed on disk ({file.path}); run processes that loaded it are "
        "replaced before their next run"
    ]


def test_with_reload_a_removed_file_counts_as_changed(tmp_path: Path) -> None:
    watch = CodeWatch(reload=True)
    mine = Loaded()
    file = loaded_file(tmp_path / "tasks.py")
    watch.learn(mine, None, [file])

    os.remove(file.path)

    assert not watch.usable(mine)


def test_without_reload_a_process_keeps_its_version_and_the_change_is_warned_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    watch = CodeWatch(reload=False)
    first, second = Loaded(), Loaded()
    file = loaded_file(tmp_path / "tasks.py")
    watch.learn(first, None, [file])
    watch.learn(second, None, [file])

    change(file)

    with caplog.at_level(logging.WARNING, logger=freshness.__name__):
        assert watch.usable(first)
        assert watch.usable(second)
    assert [record.getMessage() for record in caplog.records] == [
        f"task module tasks changed on disk ({file.path}); this worker keeps running the code "
        "it loaded: restart it or run it with --reload"
    ]


def test_without_reload_a_process_that_loaded_another_version_is_not_usable(
    tmp_path: Path,
) -> None:
    watch = CodeWatch(reload=False)
    first, late = Loaded(), Loaded()
    file = loaded_file(tmp_path / "tasks.py")
    watch.learn(first, None, [file])
    change(file)
    newer = stamp_of(file.path)
    assert newer is not None

    watch.learn(late, None, [CodeFile(file.module, file.path, *newer)])

    assert watch.usable(first)
    assert not watch.usable(late)


def test_pins_go_to_each_process_of_the_tenant_once(tmp_path: Path) -> None:
    watch = CodeWatch(reload=False)
    reporter, fresh = Loaded(), Loaded()
    a, b = loaded_file(tmp_path / "a.py"), loaded_file(tmp_path / "b.py")
    watch.learn(reporter, "t1", [a])

    assert watch.pins_for(fresh, "t1") == (a,)
    assert watch.pins_for(fresh, "t1") == ()
    assert watch.pins_for(reporter, "t1") == (), "it loaded the file itself"
    assert watch.pins_for(Loaded(), "t2") == (), "another tenant's sources never go there"

    watch.learn(reporter, "t1", [b])

    assert watch.pins_for(fresh, "t1") == (b,)
    assert reporter.files[a.path].source is None, "processes' records keep no source"


def test_with_reload_nothing_is_pinned(tmp_path: Path) -> None:
    watch = CodeWatch(reload=True)
    watch.learn(Loaded(), None, [loaded_file(tmp_path / "a.py")])

    assert watch.pins_for(Loaded(), None) == ()


def test_a_process_is_followed_for_a_bounded_number_of_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(freshness, "MAX_FILES", 2)
    watch = CodeWatch(reload=True)
    mine = Loaded()

    watch.learn(mine, None, [loaded_file(tmp_path / f"m{i}.py") for i in range(3)])

    assert len(mine.files) == 2


def test_without_reload_a_process_looks_at_its_files_at_most_once_a_second(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(0.0)
    watch = CodeWatch(reload=False, clock=clock)
    mine = Loaded()
    file = loaded_file(tmp_path / "tasks.py")
    watch.learn(mine, None, [file])
    clock.now = 5.0
    assert watch.usable(mine)

    change(file)

    with caplog.at_level(logging.WARNING, logger=freshness.__name__):
        clock.now = 5.0 + freshness.LOOK_INTERVAL_SEC / 2
        assert watch.usable(mine)
        assert caplog.records == []
        clock.now = 5.0 + freshness.LOOK_INTERVAL_SEC
        assert watch.usable(mine)
    assert len(caplog.records) == 1
