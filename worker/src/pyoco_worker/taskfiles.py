"""The task code files a run process imports, as they were when imported; pinned versions.

A run process records each module file it imports that can change under a running worker:
files outside the Python installation (the standard library, site-packages) and outside
pyoco-server's own packages and the registry's installed wheels, which never change in place.
Each record is the file's (path, mtime_ns, size) taken when the import system found it, before
it was read, so a change made during an import shows as a change (an extra recycle, never a
missed one). The worker compares the records with the disk before it gives the process a run
(freshness.py).

With reload off the worker keeps every process on the versions first loaded: the run process
sends those files' sources with the records, and the worker hands them back to its other
processes of the tenant as pins (`ImportRecorder.pin`): a pinned file that changed on disk is
compiled from its pinned source instead, or, when its source could not be kept, not imported
at all (the run fails, saying that the worker must be restarted).

Python's bytecode cache tells source versions apart by the second and the size: a file saved
twice within one second, at one size, would be run from the first version's `.pyc`. A recorded
file whose `.pyc` is older than it is therefore compiled from source (and its `.pyc` rewritten).
"""

from __future__ import annotations

import dataclasses
import importlib.abc
import importlib.machinery
import importlib.util
import os
import site
import sys
import sysconfig
import threading
from collections.abc import Iterable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

from pyoco_server.domain.copies import pickled_by_slots
from pyoco_server.domain.trust import PROTECTED_PACKAGES

MAX_SOURCE_BYTES = 4 * 1024 * 1024
"""A source larger than this is not kept (with reload off the file is then refused if changed)."""


@pickled_by_slots
@dataclasses.dataclass(frozen=True, slots=True)
class CodeFile:
    """A module's file as a run process loaded it (`source` kept only for pins)."""

    module: str
    path: str
    mtime_ns: int
    size: int
    source: str | None = None

    @property
    def stamp(self) -> tuple[int, int]:
        """What tells two versions of the file apart: (mtime_ns, size)."""
        return (self.mtime_ns, self.size)


def stamp_of(path: str) -> tuple[int, int] | None:
    """The file's (mtime_ns, size) now; None when it is gone."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size)


class ImportRecorder(importlib.abc.MetaPathFinder):
    """First on `sys.meta_path`: records task files as they are found, and serves pins."""

    def __init__(self, keep_sources: bool) -> None:
        self.keep_sources = keep_sources
        self._stable = _STABLE_ROOTS
        self._ignored: tuple[str, ...] = ()
        self._pins: dict[str, CodeFile] = {}
        self._new: list[CodeFile] = []
        self._lock = threading.Lock()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """The spec the next finders give, with what was found recorded (or pinned)."""
        spec = self._next_spec(fullname, path, target)
        origin = spec.origin if spec is not None and spec.has_location else None
        if spec is None or origin is None:
            return spec
        real = os.path.realpath(origin)
        stamp = stamp_of(real) if self._tracked(fullname, real) else None
        if stamp is None:
            return spec
        pin = self._pins.get(real)
        if pin is not None and pin.stamp != stamp:
            stamp = _pinned(spec, fullname, real, pin)
        elif isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            _skip_older_bytecode(spec, fullname, origin, stamp)
        self._record(CodeFile(fullname, real, *stamp))
        return spec

    def _next_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None
    ) -> ModuleSpec | None:
        finders = sys.meta_path
        start = next((i + 1 for i, finder in enumerate(finders) if finder is self), 0)
        for finder in finders[start:]:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                return spec  # type: ignore[no-any-return]
        return None

    def _tracked(self, module: str, real: str) -> bool:
        if module.startswith("__") or module.split(".", 1)[0] in PROTECTED_PACKAGES:
            return False
        try:
            real.encode()
        except UnicodeEncodeError:
            return False  # not a path the worker can be told about
        return not real.startswith(self._stable) and not real.startswith(self._ignored)

    def _record(self, file: CodeFile) -> None:
        with self._lock:
            self._new.append(file)

    def record_resolver(self, spec: str) -> None:
        """Record a `file.py:function` flow resolver's file (it is executed, not imported)."""
        target = spec.rpartition(":")[0]
        if target.endswith(".py"):
            real = os.path.realpath(os.path.expanduser(target))
            stamp = stamp_of(real)
            if stamp is not None:
                self._record(CodeFile(f"resolver {os.path.basename(real)}", real, *stamp))

    def ignore(self, paths: Iterable[str]) -> None:
        """Never record files under `paths` (installed registry wheels: immutable)."""
        added = tuple(os.path.join(os.path.realpath(path), "") for path in paths)
        if added and not set(added) <= set(self._ignored):
            self._ignored = tuple(dict.fromkeys((*self._ignored, *added)))

    def pin(self, files: Iterable[CodeFile]) -> None:
        """From now on, import each file at its pinned version (see the module docstring)."""
        for file in files:
            self._pins.setdefault(file.path, file)

    def take(self) -> tuple[CodeFile, ...]:
        """The files recorded since the last call (with their sources when they are kept)."""
        with self._lock:
            new, self._new = self._new, []
        if not self.keep_sources:
            return tuple(new)
        # A pinned file's source is the worker's already.
        return tuple(
            file if file.path in self._pins else dataclasses.replace(file, source=_source(file))
            for file in new
        )


def recorder(keep_sources: bool) -> ImportRecorder:
    """This process's recorder: the one it inherited from the fork server, or a new one."""
    for finder in sys.meta_path:
        if isinstance(finder, ImportRecorder):
            return finder
    made = ImportRecorder(keep_sources)
    sys.meta_path.insert(0, made)
    return made


def files_data(files: Sequence[CodeFile]) -> list[list[Any]]:
    """Files as compact JSON arrays (`module, path, mtime_ns, size, source`)."""
    return [[f.module, f.path, f.mtime_ns, f.size, f.source] for f in files]


def files_from_data(data: Any) -> tuple[CodeFile, ...]:
    """The files of `files_data` (TypeError or ValueError when it is not that)."""
    if not isinstance(data, list):
        raise TypeError("files must be an array")
    return tuple(_file(item) for item in data)


def _file(item: Any) -> CodeFile:
    if not isinstance(item, list) or len(item) != 5:
        raise TypeError("a file must be an array of 5 items")
    module, path, mtime_ns, size, source = item
    texts = (module, path) if source is None else (module, path, source)
    if not all(isinstance(text, str) for text in texts):
        raise TypeError("a file's module, path and source must be text")
    numbers = (mtime_ns, size)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
        raise TypeError("a file's mtime_ns and size must be whole numbers, 0 or more")
    if not os.path.isabs(path) or len(path) > 4096:
        raise ValueError(f"{path[:100]!r} is not an absolute path")
    return CodeFile(module, path, mtime_ns, size, source)


def _stable_roots() -> tuple[str, ...]:
    """Where modules live that do not change under a running worker: the installation."""
    paths = sysconfig.get_paths()
    roots = {paths[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots.update(site.getsitepackages())
    roots.add(site.getusersitepackages())
    return tuple(os.path.join(os.path.realpath(root), "") for root in roots)


_STABLE_ROOTS = _stable_roots()
"""Worked out on import: in the fork server, before a run process may become a user who
cannot read what `sysconfig` imports."""


def _source(file: CodeFile) -> str | None:
    """The file's text if it is still the version recorded (read between two looks)."""
    if file.size > MAX_SOURCE_BYTES or stamp_of(file.path) != file.stamp:
        return None
    try:
        with open(file.path, "rb") as handle:
            data = handle.read(MAX_SOURCE_BYTES + 1)
        text = data.decode()
    except (OSError, UnicodeDecodeError):
        return None
    return text if stamp_of(file.path) == file.stamp else None


def _pinned(spec: ModuleSpec, fullname: str, path: str, pin: CodeFile) -> tuple[int, int]:
    """Load the pinned version of a file that changed on disk; its stamp."""
    if pin.source is None or not path.endswith(".py"):
        raise ImportError(
            f"task module {fullname} ({path}) changed on disk since this worker loaded it: "
            "restart the worker, or run it with --reload",
            name=fullname,
        )
    spec.loader = PinnedLoader(fullname, path, pin.source)
    spec.cached = None
    return pin.stamp


def _skip_older_bytecode(
    spec: ModuleSpec, fullname: str, origin: str, stamp: tuple[int, int]
) -> None:
    """Compile from source when the `.pyc` was written before the source's last change."""
    try:
        cached = importlib.util.cache_from_source(origin)
        written = os.stat(cached).st_mtime_ns
    except (OSError, NotImplementedError, ValueError):
        return
    if written < stamp[0]:
        spec.loader = _Recompiling(fullname, origin)


class _Recompiling(importlib.machinery.SourceFileLoader):
    """Reads the source and never the `.pyc` (which it rewrites)."""

    def get_data(self, path: str) -> bytes:
        if path != self.path:
            raise OSError("an older .pyc is not trusted")
        return super().get_data(path)


class PinnedLoader(importlib.abc.SourceLoader):
    """Loads a module from a pinned source, never from the file (nor its `.pyc`)."""

    def __init__(self, fullname: str, path: str, source: str) -> None:
        self.name = fullname
        self.path = path
        self._source = source.encode()

    def get_filename(self, fullname: str) -> str:
        """The file the module was loaded from (its pinned version)."""
        return self.path

    def get_data(self, path: str) -> bytes:
        """The pinned source; nothing else (no bytecode is read or written)."""
        if path != self.path:
            raise OSError(f"{path}: only the pinned source is served")
        return self._source
