"""The workspace builds quietly on a fresh clone: one build backend, the one the dev group pins.

uv builds every workspace member on the first `uv sync` or `uv run`. A member whose build backend
is uv's own `uv_build`, pinned to a range of uv versions (as openapi-python-client's template
does), makes every other uv print a warning there; hatchling has no such tie. `.ci/run` checks
the real first sync for warnings; this test names the cause.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.support.processes import ROOT


def _pyproject(path: Path) -> dict[str, object]:
    with path.open("rb") as file:
        return tomllib.load(file)


def test_every_workspace_member_builds_with_hatchling() -> None:
    root = _pyproject(ROOT / "pyproject.toml")
    members: list[str] = root["tool"]["uv"]["workspace"]["members"]  # type: ignore[index]
    assert "generated_client" in members
    assert "hatchling>=1.25" in root["dependency-groups"]["dev"]  # type: ignore[index]
    for member in members:
        build = _pyproject(ROOT / member / "pyproject.toml")["build-system"]
        assert build == {
            "requires": ["hatchling>=1.25"],
            "build-backend": "hatchling.build",
        }, member


def test_the_root_is_not_built() -> None:
    """The root only gathers the members; uv must not try to build it."""
    root = _pyproject(ROOT / "pyproject.toml")
    assert root["tool"]["uv"]["package"] is False  # type: ignore[index]
    assert "build-system" not in root
