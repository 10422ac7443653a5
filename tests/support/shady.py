"""A module of task callables that are not what they seem (for the trust tests).

Importing it leaves a marker file (`PYOCO_TEST_IMPORT_MARKER`), so a test can tell whether a
refused callable's module was imported at all.
"""

from __future__ import annotations

import os
from pathlib import Path
from subprocess import getoutput  # noqa: F401  (re-exported on purpose: `shady:getoutput`)

_marker = os.environ.get("PYOCO_TEST_IMPORT_MARKER")
if _marker:
    Path(_marker).write_text("imported")


def honest(x: int) -> int:
    """A task defined here."""
    return x
