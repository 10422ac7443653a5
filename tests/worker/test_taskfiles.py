"""ImportRecorder: the task files a run process imports, their pinned versions, stale bytecode.

Each test puts a recorder of its own first on `sys.meta_path` and imports modules with names
of its own from `tmp_path`; both are undone when it ends.
"""

from __future__ import annotations

import importlib
import os
import py_compile
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyoco_worker.protocol import Imported, ProtocolError, decode_from_child, encode_from_child
from pyoco_worker.taskfiles import CodeFile, ImportRecorder, stamp_of


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ImportRecorder]:
    """A recorder keeping sources, first on `sys.meta_path`, with `tmp_path` importable."""
    made = ImportRecorder(keep_sources=True)
    monkeypatch.setattr(sys, "meta_path", [made, *sys.meta_path])
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield made
    for name in set(sys.modules) - before:
        del sys.modules[name]


def module(tmp_path: Path, value: int) -> tuple[str, Path]:
    """A new module `value()` returning `value`: its name and file."""
    name = f"task_{uuid.uuid4().hex[:12]}"
    path = tmp_path / f"{name}.py"
    path.write_text(f"def value():\n    return {value}\n")
    return name, path


def rewrite(path: Path, value: int) -> None:
    """The module at `path` returning `value` (the same size), saved in the same second."""
    before = os.stat(path).st_mtime_ns
    path.write_text(f"def value():\n    return {value}\n")
    os.utime(path, ns=(before + 1000, before + 1000))


def test_a_task_module_is_recorded_as_it_was_found(
    recorder: ImportRecorder, tmp_path: Path
) -> None:
    name, path = module(tmp_path, 1)

    importlib.import_module(name)

    (file,) = recorder.take()
    assert (file.module, file.path) == (name, str(path.resolve()))
    assert file.stamp == stamp_of(str(path))
    assert file.source == path.read_text()
    assert recorder.take() == (), "each file is told once"


@pytest.mark.parametrize("name", ["colorsys", "yaml", "pyoco_worker", "pyoco"])
def test_the_installation_and_our_own_packages_are_not_recorded(
    recorder: ImportRecorder, name: str
) -> None:
    assert recorder.find_spec(name, None) is not None

    assert recorder.take() == ()


def test_files_under_ignored_paths_are_not_recorded(
    recorder: ImportRecorder, tmp_path: Path
) -> None:
    name, _ = module(tmp_path, 1)
    recorder.ignore([str(tmp_path)])

    importlib.import_module(name)

    assert recorder.take() == ()


def test_sources_are_not_kept_when_not_asked(tmp_path: Path) -> None:
    bare = ImportRecorder(keep_sources=False)
    _, path = module(tmp_path, 1)
    bare.record_resolver(f"{path}:resolve")

    (file,) = bare.take()
    assert (file.path, file.source) == (str(path.resolve()), None)


def test_a_source_that_changed_since_it_was_found_is_not_kept(tmp_path: Path) -> None:
    bare = ImportRecorder(keep_sources=True)
    _, path = module(tmp_path, 1)
    bare.record_resolver(f"{path}:resolve")
    rewrite(path, 2)

    (file,) = bare.take()
    assert file.source is None


def test_bytecode_older_than_its_source_is_not_used(
    recorder: ImportRecorder, tmp_path: Path
) -> None:
    """Python's .pyc check compares the second and the size only: this one would pass it."""
    name, path = module(tmp_path, 1)
    cached = Path(py_compile.compile(str(path), doraise=True))
    first = os.stat(path).st_mtime_ns
    os.utime(cached, ns=(first + 500, first + 500))  # written after version 1 was saved
    rewrite(path, 2)  # then version 2, in the same second, at the same size

    assert importlib.import_module(name).value() == 2


def test_a_pinned_file_that_changed_is_imported_at_its_pinned_version(
    recorder: ImportRecorder, tmp_path: Path
) -> None:
    name, path = module(tmp_path, 1)
    stamp = stamp_of(str(path))
    assert stamp is not None
    pin = CodeFile(name, str(path.resolve()), *stamp, source=path.read_text())
    rewrite(path, 2)
    recorder.pin([pin])

    assert importlib.import_module(name).value() == 1
    (file,) = recorder.take()
    assert (file.stamp, file.source) == (pin.stamp, None), "the worker has its source"


def test_a_pinned_file_that_did_not_change_is_imported_from_disk(
    recorder: ImportRecorder, tmp_path: Path
) -> None:
    name, path = module(tmp_path, 1)
    stamp = stamp_of(str(path))
    assert stamp is not None
    recorder.pin(
        [CodeFile(name, str(path.resolve()), *stamp, source="def value():\n    return 9\n")]
    )

    assert importlib.import_module(name).value() == 1


def test_a_pinned_file_that_changed_without_its_source_is_refused(
    recorder: ImportRecorder, tmp_path: Path
) -> None:
    name, path = module(tmp_path, 1)
    stamp = stamp_of(str(path))
    assert stamp is not None
    recorder.pin([CodeFile(name, str(path.resolve()), *stamp)])
    rewrite(path, 2)

    with pytest.raises(ImportError, match=r"changed on disk .* restart the worker"):
        importlib.import_module(name)


def test_imported_files_cross_the_pipe() -> None:
    files = (
        CodeFile("a", "/srv/a.py", 1, 2, "x = 1\n"),
        CodeFile("resolver b.py", "/srv/b.py", 3, 4),
    )

    assert decode_from_child(encode_from_child(Imported(files))) == Imported(files)


@pytest.mark.parametrize(
    "files",
    [
        b'"a"',
        b'[["a", "relative.py", 1, 2, null]]',
        b'[["a", "/a.py", -1, 2, null]]',
        b'[["a", "/a.py", 1, true, null]]',
        b'[["a", "/a.py", 1, 2, 3]]',
        b'[["a", "/a.py", 1, 2]]',
    ],
)
def test_a_malformed_list_of_files_breaks_the_protocol(files: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_from_child(b'{"type": "imported", "files": ' + files + b"}")
