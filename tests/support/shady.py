"""A module of task callables that are not what they seem (for the trust tests).

Importing it leaves a marker file, so a test can tell whether a refused callable's module was
imported at all: `PYOCO_TEST_IMPORT_MARKER` in this process, or `$TMPDIR/shady-imported` in a
run process (which keeps `TMPDIR` and no `PYOCO_*` variable).
"""

from __future__ import annotations

import os
from pathlib import Path
from subprocess import getoutput  # noqa: F401  (re-exported on purpose: `shady:getoutput`)

_marker = os.environ.get("PYOCO_TEST_IMPORT_MARKER") or (
    os.path.join(os.environ["TMPDIR"], "shady-imported") if "TMPDIR" in os.environ else None
)
if _marker:
    Path(_marker).write_text("imported")


def honest(x: int) -> int:
    """A task defined here."""
    return x
