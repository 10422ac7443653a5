"""Draws docs/images/performance.svg from bench/results/sweep.json (bench.sweep): runs/s and
submit-to-terminal latency (p50 and p99) against offered load, for both submit paths.

    uv run python -m bench.plot [SWEEP_JSON] [SVG]

Plain SVG, written by hand: no plotting library is needed to draw two small charts.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from bench._results import RESULTS

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT, PANEL = 900, 380, 400
LEFT, TOP, BOTTOM = 60, 50, 50
COLOURS = {"json": "#1f77b4", "flow.yaml": "#d62728"}


def _nice_max(value: float) -> float:
    """A round axis maximum above `value`."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _panel(
    x0: int,
    title: str,
    curves: dict[str, list[dict[str, float]]],
    series: list[tuple[str, str, str]],
) -> list[str]:
    """One chart: clients (log2) across, the `series` (key, label suffix, dash) up."""
    plot_w, plot_h = PANEL - LEFT - 20, HEIGHT - TOP - BOTTOM
    clients = sorted({point["clients"] for points in curves.values() for point in points})
    top = _nice_max(max(p[key] for ps in curves.values() for p in ps for key, _, _ in series))
    span = math.log2(max(clients)) or 1.0

    def x(value: float) -> float:
        return x0 + LEFT + plot_w * math.log2(value) / span

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    out = [f'<text x="{x0 + LEFT + plot_w / 2}" y="{TOP - 20}" class="title">{title}</text>']
    for tick in range(5):
        value = top * tick / 4
        out.append(
            f'<line x1="{x0 + LEFT}" x2="{x0 + LEFT + plot_w}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}" class="grid"/>'
            f'<text x="{x0 + LEFT - 6}" y="{y(value) + 4:.1f}" class="tick" '
            f'text-anchor="end">{value:g}</text>'
        )
    for count in clients:
        out.append(
            f'<text x="{x(count):.1f}" y="{TOP + plot_h + 16}" class="tick" '
            f'text-anchor="middle">{count}</text>'
        )
    out.append(
        f'<text x="{x0 + LEFT + plot_w / 2}" y="{HEIGHT - 12}" class="axis">'
        "concurrent clients (offered load)</text>"
    )
    for name, points in curves.items():
        for key, suffix, dash in series:
            path = " ".join(f"{x(p['clients']):.1f},{y(p[key]):.1f}" for p in points)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{COLOURS.get(name, "#444")}" '
                f'stroke-width="2" stroke-dasharray="{dash}"><title>{name} {suffix}</title>'
                "</polyline>"
            )
    return out


def draw(sweep: dict[str, Any]) -> str:
    """The SVG document for a bench.sweep result."""
    curves = sweep["curves"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT + 30}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT + 30}" font-family="sans-serif">',
        "<style>.title{font-size:15px;text-anchor:middle}.tick{font-size:11px;fill:#555}"
        ".axis{font-size:12px;text-anchor:middle}.grid{stroke:#ddd}"
        ".legend{font-size:12px}</style>",
        '<rect width="100%" height="100%" fill="white"/>',
        *_panel(0, "runs/s end to end", curves, [("runs_per_s", "runs/s", "")]),
        *_panel(
            PANEL + 60,
            "submit → terminal latency, ms (p50 solid, p99 dashed)",
            curves,
            [("p50_ms", "p50", ""), ("p99_ms", "p99", "6 4")],
        ),
    ]
    machine = sweep.get("machine", {})
    for index, name in enumerate(curves):
        parts.append(
            f'<rect x="{LEFT + 170 * index}" y="{HEIGHT + 8}" width="14" height="4" '
            f'fill="{COLOURS.get(name, "#444")}"/><text x="{LEFT + 170 * index + 20}" '
            f'y="{HEIGHT + 14}" class="legend">{name} submits</text>'
        )
    parts.append(
        f'<text x="{WIDTH - 10}" y="{HEIGHT + 14}" class="tick" text-anchor="end">'
        f"{machine.get('cpus', '?')} CPUs, {machine.get('date', '')}</text></svg>"
    )
    return "\n".join(parts) + "\n"


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS / "sweep.json"
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs/images/performance.svg"
    target.write_text(draw(json.loads(source.read_text())))
    print(target)


if __name__ == "__main__":
    main()
