"""Wheels: what an upload must be, what it provides, and which version a run gets.

`inspect_wheel` reads a wheel file (a zip) without installing it: the `*.dist-info/METADATA`
Name and Version must match the file name, and the top-level modules it provides must not shadow
the standard library or pyoco-server's own packages (a wheel providing `subprocess` would
otherwise turn an allowed callable into an arbitrary one). `current_versions` is the rule that
binds a run to code: for each distribution, the newest version not deleted that is available to
the run's tag (an untagged wheel is available to every tag).
"""

from __future__ import annotations

import dataclasses
import email.parser
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import packaging.requirements
from packaging.requirements import Requirement
from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from pyoco_server.domain import names
from pyoco_server.domain.errors import InvalidRequirement, InvalidWheel
from pyoco_server.domain.records import CodeVersion, WheelIndexRecord, WheelVersion
from pyoco_server.domain.trust import is_never_allowed

_METADATA_MAX_BYTES = 1024 * 1024
_MAX_TAGS = 32


@dataclasses.dataclass(frozen=True, slots=True)
class WheelName:
    """What a wheel's file name says."""

    filename: str
    distribution: str
    version: str


@dataclasses.dataclass(frozen=True, slots=True)
class WheelInfo:
    """What a wheel file holds, as read from it."""

    name: WheelName
    modules: tuple[str, ...]
    requires_dist: tuple[str, ...]
    requires_python: str | None


def parse_wheel_name(filename: str) -> WheelName:
    """The distribution and version of a wheel file name (`InvalidWheel` when it is not one)."""
    if "/" in filename or "\\" in filename or not filename.endswith(".whl"):
        raise InvalidWheel(
            "invalid_wheel_name",
            f"{filename!r} is not a wheel file name; it should look like "
            "my_ext-0.1.0-py3-none-any.whl",
        )
    try:
        distribution, version, _build, _tags = parse_wheel_filename(filename)
    except (InvalidWheelFilename, InvalidVersion) as exc:
        raise InvalidWheel("invalid_wheel_name", f"{filename!r}: {exc}") from None
    return WheelName(filename, str(distribution), str(version))


def parse_tags(raw: str | None) -> tuple[str, ...]:
    """A comma-separated tag list: deduplicated, in order (`InvalidWheel` for a bad tag)."""
    tags = tuple(dict.fromkeys(tag.strip() for tag in (raw or "").split(",") if tag.strip()))
    bad = [tag for tag in tags if not names.is_tag(tag)]
    if bad or len(tags) > _MAX_TAGS:
        raise InvalidWheel(
            "invalid_tags",
            f"tags must be at most {_MAX_TAGS}, each {names.TAG_RULE}; got {', '.join(bad)}"
            if bad
            else f"at most {_MAX_TAGS} tags",
        )
    return tags


def inspect_wheel(path: Path, filename: str) -> WheelInfo:
    """Check that `path` is the wheel `filename` says it is, and read what it provides.

    Raises:
        InvalidWheel: not a zip, no (or several) METADATA, Name or Version not those of the
            file name, or a module that shadows the standard library or pyoco-server.
    """
    name = parse_wheel_name(filename)
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.namelist()
            metadata = _metadata(archive, entries, filename)
    except zipfile.BadZipFile:
        raise InvalidWheel("invalid_wheel", f"{filename} is not a zip archive") from None
    _check_metadata(metadata, name)
    modules = _top_level_modules(entries)
    shadowing = [module for module in modules if is_never_allowed(module)]
    if shadowing:
        raise InvalidWheel(
            "invalid_wheel",
            f"{filename} provides {', '.join(shadowing)}, which would shadow the standard "
            "library or pyoco-server; rename the module",
        )
    return WheelInfo(
        name=name,
        modules=modules,
        requires_dist=tuple(metadata.get_all("Requires-Dist") or ()),
        requires_python=metadata.get("Requires-Python"),
    )


def _metadata(
    archive: zipfile.ZipFile, entries: Sequence[str], filename: str
) -> email.message.Message:
    found = [
        entry
        for entry in entries
        if entry.count("/") == 1 and entry.endswith(".dist-info/METADATA")
    ]
    if len(found) != 1:
        what = "no" if not found else "more than one"
        raise InvalidWheel(
            "invalid_wheel", f"{filename} has {what} *.dist-info/METADATA; build it with uv build"
        )
    info = archive.getinfo(found[0])
    if info.file_size > _METADATA_MAX_BYTES:
        raise InvalidWheel("invalid_wheel", f"{filename}: its METADATA is over 1 MiB")
    text = archive.read(found[0]).decode("utf-8", errors="replace")
    return email.parser.Parser().parsestr(text, headersonly=True)


def _check_metadata(metadata: email.message.Message, name: WheelName) -> None:
    declared_name, declared_version = metadata.get("Name"), metadata.get("Version")
    if not declared_name or not declared_version:
        raise InvalidWheel("invalid_wheel", f"{name.filename}: METADATA lacks Name or Version")
    if canonicalize_name(declared_name) != canonicalize_name(name.distribution):
        raise InvalidWheel(
            "invalid_wheel",
            f"{name.filename}: METADATA says Name {declared_name!r}, the file name "
            f"{name.distribution!r}",
        )
    if canonicalize_version(declared_version) != canonicalize_version(name.version):
        raise InvalidWheel(
            "invalid_wheel",
            f"{name.filename}: METADATA says Version {declared_version!r}, the file name "
            f"{name.version!r}",
        )


def _top_level_modules(entries: Iterable[str]) -> tuple[str, ...]:
    modules: dict[str, None] = {}
    for entry in entries:
        parts = entry.split("/")
        if parts[0].endswith(".dist-info"):
            continue
        if parts[0].endswith(".data"):
            if len(parts) < 4 or parts[1] not in ("purelib", "platlib"):
                continue
            parts = parts[2:]
        top = parts[0]
        if len(parts) == 1:  # a module file at the top: mod.py, mod.cpython-311-....so
            if not top.endswith((".py", ".so", ".pyd")):
                continue
            top = top.split(".", 1)[0]
        if top.isidentifier():
            modules[top] = None
    return tuple(sorted(modules))


def newer(candidate: str, than: Iterable[str]) -> bool:
    """True when version `candidate` is strictly higher than each of `than`."""
    new = Version(candidate)
    return all(new > Version(version) for version in than)


def available_to(version: WheelVersion, tag: str) -> bool:
    """True when runs on `tag` may be bound to `version` (untagged wheels go to every tag)."""
    return not version.deleted and (not version.tags or tag in version.tags)


def code_of(distribution: str, version: WheelVersion) -> CodeVersion:
    """How a run records being bound to `version`."""
    return CodeVersion(distribution, version.version, version.sha256, version.wheel)


def current_versions(index: Mapping[str, WheelIndexRecord], tag: str) -> list[CodeVersion]:
    """The newest version of each distribution available to `tag`, by distribution name."""
    bound = []
    for distribution in sorted(index):
        candidates = [v for v in index[distribution].versions if available_to(v, tag)]
        if candidates:
            newest = max(candidates, key=lambda v: Version(v.version))
            bound.append(code_of(distribution, newest))
    return bound


def parse_requirement(text: str) -> tuple[str, str]:
    """The distribution and version of a pin `dist==version` (`InvalidRequirement` otherwise)."""
    try:
        requirement = Requirement(text)
    except packaging.requirements.InvalidRequirement as exc:
        raise InvalidRequirement(
            f"requires: {text!r} is not a pin like my_ext==0.1.0: {exc}"
        ) from None
    specifiers = list(requirement.specifier)
    if len(specifiers) != 1 or specifiers[0].operator != "==" or requirement.marker:
        raise InvalidRequirement(
            f"requires: {text!r} must pin one version exactly, like my_ext==0.1.0"
        )
    return canonicalize_name(requirement.name), specifiers[0].version
