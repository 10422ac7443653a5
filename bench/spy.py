"""Where the gateway's or the worker's CPU goes under load, sampled by py-spy.

    uv run python -m bench.spy gateway [--yaml] [--gil] [SECONDS]
    uv run python -m bench.spy worker [--gil] [SECONDS]

`gateway` runs `bench._profile_gateway` (in process, wrk submitting JSON, or the seed flow.yaml
with --yaml), `worker` runs `bench._profile_worker 6000 8 --uvloop` (one worker draining queued
runs; only its supervisor is sampled). py-spy samples it for SECONDS
(default 5) from the moment its load starts, and this prints the share of samples by package and by function (time spent in the
function itself), and the share of each of this project's functions including what it calls.

A sampling profiler adds no cost per call, so unlike cProfile (`--profile` of the two modules
above) it does not overstate code made of many small calls. Under uvloop a resumed coroutine's
stack starts at the coroutine, so "including what it calls" counts only what runs in the same
step; the shares by function itself are exact up to sampling noise (about ±1 % at 800 samples).
A thread is sampled whenever it is not idle, including while it waits to run again after a write
that woke another process (nats-server, a run process): such a write's share is wall time, not
CPU. `--gil` keeps only the samples of a thread holding the GIL.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench._stack import ROOT

_TARGETS = {
    "gateway": ["-m", "bench._profile_gateway"],
    "worker": ["-m", "bench._profile_worker", "6000", "8", "--uvloop"],
}
_OURS = ("pyoco_server/", "pyoco_worker/")


def wait_measuring(bench: subprocess.Popen[str]) -> None:
    """Until the benchmark says (on stderr) that its load has started."""
    assert bench.stderr is not None
    for line in bench.stderr:
        if line.strip() == "measuring":
            return
        sys.stderr.write(line)
    raise RuntimeError(f"{bench.args!r} ended before its load started")


def shares(raw: Path) -> tuple[int, Counter[str], Counter[str], Counter[str]]:
    """Samples, and samples by package, by function itself and by function with its callees."""
    packages: Counter[str] = Counter()
    itself: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        total += samples
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        itself[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
        packages[_package(frames[-1])] += samples
    return total, packages, itself, inclusive


def _package(frame: str) -> str:
    found = re.search(r"\((.*)\)$", frame)
    path = found.group(1) if found else frame
    path = re.sub(r".*site-packages/", "", path)
    path = re.sub(r".*/src/", "", path)
    return path.split("/")[0] if "/" in path else path.split(":")[0]


def main() -> None:
    args = sys.argv[1:]
    target = args.pop(0) if args and args[0] in _TARGETS else "gateway"
    command = [sys.executable, *_TARGETS[target]]
    if "--yaml" in args:
        args.remove("--yaml")
        command.append("--yaml")
    holding_gil = "--gil" in args
    if holding_gil:
        args.remove("--gil")
    seconds = int(args[0]) if args else 5
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "samples.txt"
        bench = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            wait_measuring(bench)
            record = ["py-spy", "record", "--pid", str(bench.pid), "--duration", str(seconds)]
            record += ["--rate", "200", "--format", "raw", "--nonblocking", "--output", str(raw)]
            record += ["--gil"] if holding_gil else []
            subprocess.run(record, check=True, capture_output=True)
            print(bench.communicate(timeout=300)[0].strip())
        finally:
            bench.kill()
        total, packages, itself, inclusive = shares(raw)
    print(f"{total} samples of {' '.join(command[1:])}\n\nby package (itself):")
    for name, samples in packages.most_common(12):
        print(f"  {100 * samples / total:5.1f} %  {name}")
    print("\nby function (itself):")
    for name, samples in itself.most_common(25):
        print(f"  {100 * samples / total:5.1f} %  {name}")
    print("\nthis project's functions (with what they call in the same step):")
    ours = [(name, n) for name, n in inclusive.most_common() if any(o in name for o in _OURS)]
    for name, samples in ours[:25]:
        print(f"  {100 * samples / total:5.1f} %  {name}")


if __name__ == "__main__":
    main()
