"""A look inside a wheel before it is uploaded, as the original client did (`--preflight`).

Problems with the wheel itself are errors: not a zip, no `*.dist-info/METADATA`, no Name or
Version, or a Name and Version other than the file name's. Two findings of the original are
warnings unless asked for: no entry points (pyoco-server names task callables in flow.yaml, so a
wheel needs none) and no usage documentation (a description of at least 80 characters, or a
Project-URL labelled documentation, docs, doc or usage). An empty Summary is a warning.
"""

from __future__ import annotations

import dataclasses
import re
import zipfile
from email.parser import Parser
from pathlib import Path

_USAGE_LABELS = ("documentation", "docs", "doc", "usage")
_MIN_DESCRIPTION = 80


@dataclasses.dataclass
class Findings:
    """What a preflight found: errors stop the upload (in strict mode), warnings do not."""

    errors: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)


def preflight(
    path: Path, *, require_entry_points: bool = False, require_usage_doc: bool = False
) -> Findings:
    """Check the wheel at `path` (see the module docstring)."""
    found = Findings()
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            metadata_names = [
                n for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            ]
            if len(metadata_names) != 1:
                found.errors.append("the wheel has no single *.dist-info/METADATA")
                return found
            text = archive.read(metadata_names[0]).decode("utf-8", errors="replace")
            entry_points = metadata_names[0].replace("METADATA", "entry_points.txt")
            points = archive.read(entry_points).decode() if entry_points in names else ""
    except (zipfile.BadZipFile, OSError) as exc:
        found.errors.append(f"not a wheel (zip) file: {exc}")
        return found
    metadata = Parser().parsestr(text)
    _check_identity(path.name, metadata.get("Name"), metadata.get("Version"), found)
    if not re.search(r"^\s*\w[^=\s]*\s*=", points, re.M):
        _note(found, require_entry_points, "the wheel declares no entry points (entry_points.txt)")
    if not _has_usage_doc(metadata):
        _note(
            found,
            require_usage_doc,
            "the wheel has no usage documentation (a description of 80 characters or more, "
            "or a Project-URL labelled documentation, docs, doc or usage)",
        )
    if not (metadata.get("Summary") or "").strip():
        found.warnings.append("the wheel's Summary is empty")
    return found


def _check_identity(file_name: str, name: str | None, version: str | None, found: Findings) -> None:
    if not name or not version:
        found.errors.append("METADATA lacks Name or Version")
        return
    parts = file_name.split("-")
    if len(parts) < 5 or _normal(parts[0]) != _normal(name) or parts[1] != version:
        found.errors.append(
            f"the file name {file_name!r} does not match METADATA ({name} {version}); "
            "rebuild the wheel rather than renaming it"
        )


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _has_usage_doc(metadata: object) -> bool:
    description = metadata.get_payload() or metadata.get("Description") or ""  # type: ignore[attr-defined]
    if len(str(description).strip()) >= _MIN_DESCRIPTION:
        return True
    urls = metadata.get_all("Project-URL") or []  # type: ignore[attr-defined]
    return any(url.split(",", 1)[0].strip().lower() in _USAGE_LABELS for url in urls)


def _note(found: Findings, required: bool, finding: str) -> None:
    (found.errors if required else found.warnings).append(finding)
