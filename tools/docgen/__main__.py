"""Write docs/config.md and docs/api.md, or with `--check` fail when either is stale."""

from __future__ import annotations

import sys
from collections.abc import Callable

from . import api, config

PAGES: dict[str, Callable[[], str]] = {"config.md": config.render, "api.md": api.render}


def main(argv: list[str]) -> int:
    """Generate (or check) every page; the exit status is 1 when a check found drift."""
    check = "--check" in argv
    stale = []
    for name, render in PAGES.items():
        path = api.ROOT / "docs" / name
        text = render()
        if check:
            if not path.is_file() or path.read_text() != text:
                stale.append(f"docs/{name}")
        else:
            path.write_text(text)
    if stale:
        print(
            f"{', '.join(stale)} out of date with the settings or the specs; run "
            "`uv run nox -s generate` and commit the result",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
