"""`python -m bench NAME [ARGS]` runs the benchmark `bench.NAME` (bench/README.md lists them);
without a name, lists them."""

from __future__ import annotations

import pkgutil
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benchmarks() -> list[str]:
    """The runnable benchmarks: bench's public modules."""
    return sorted(
        module.name
        for module in pkgutil.iter_modules([str(HERE)])
        if not module.name.startswith("_") and module.name not in {"flows", "submits"}
    )


def main(arguments: list[str]) -> int:
    names = benchmarks()
    if not arguments or arguments[0] not in names:
        if arguments and arguments[0] not in {"-h", "--help"}:
            print(f"bench: no benchmark {arguments[0]!r}", file=sys.stderr)
        print("usage: python -m bench NAME [ARGS]  (bench/README.md says what each measures)")
        print("benchmarks: " + ", ".join(names))
        return 0 if not arguments or arguments[0] in {"-h", "--help"} else 1
    sys.argv = [f"bench.{arguments[0]}", *arguments[1:]]
    runpy.run_module(f"bench.{arguments[0]}", run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
