"""Benchmark results as JSON files (bench/results/NAME.json unless `--out FILE`), with the
machine and the date they were measured on."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def write_result(name: str, result: dict[str, Any]) -> dict[str, Any]:
    """Write `result` with the machine's description; returns what was written."""
    out = Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else None
    path = out or RESULTS / f"{name}.json"
    document = {"benchmark": name, "machine": machine(), **result}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return document
