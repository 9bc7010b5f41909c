"""bench/results.svg from bench/results.json: one bar per comparison with a
peer (the ratio peer median / pgkit median, on a log scale, labelled), the
goal as a line across its bar. Standard library only: the SVG is written
as text, no plotting stack.

    python3 bench/chart.py [results.json [out.svg]]   # default: bench/'s
    python3 bench/chart.py --check out.svg            # parses it, exit 1 if bad
"""

from __future__ import annotations

import json
import math
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Optional
from xml.sax.saxutils import escape

WIDTH = 860
LEFT = 20  # the bars' area, in x
RIGHT = WIDTH - 90  # room for the last ratio label
ROW = 40  # one comparison: its title, then its bar
BAR = 14
TOP = 100  # below the heading, the legend and the top axis labels
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"

# Colours that read in light and dark viewers.
MET, MISSED, NO_GOAL, INK, GRID = "#2e9d5b", "#d1453b", "#8a8f98", "#333", "#ccc"


def goal_ratio(row: dict) -> Optional[float]:
    """The ratio the goal asks for: results.json's `goalRatio`, or for files
    written before it existed, read from the goal's text."""
    if row.get("goalRatio") is not None:
        return float(row["goalRatio"])
    text = row.get("goal") or ""
    if text in ("no slower", "no more"):
        return 1.0
    m = re.search(r"≥ ([\d.]+)×", text)
    if m:
        return float(m.group(1))
    m = re.fullmatch(r"within ([\d.]+) %", text)
    if m:
        return 1 / (1 + float(m.group(1)) / 100)
    return None


def value(v: float, row: dict) -> str:
    """A median as the tables print it (seconds, or KiB for peak RSS)."""
    if row.get("metric") == "rss":
        return f"{v / 1024:.1f} MB"
    return f"{v * 1000:.1f} ms" if v < 1 else f"{v:.2f} s"


def bars(data: dict) -> list[dict]:
    """The rows with a peer, measured or not, in results.json's order."""
    return [r for r in data["rows"] if r.get("peerName")]


def render(data: dict) -> str:
    rows = bars(data)
    meta = data.get("meta", {})
    ratios = [r["ratio"] for r in rows if r.get("status") == "ok" and r.get("ratio")]
    goals = [g for g in (goal_ratio(r) for r in rows) if g]
    lo = min([0.5] + [x / 1.3 for x in ratios + goals])
    hi = max([2.0] + [x * 1.3 for x in ratios + goals])
    # The 1-2-5 ticks just around everything drawn.
    ticks = [d * m for d in (10.0 ** e for e in range(-3, 7)) for m in (1, 2, 5)]
    lo = max([t for t in ticks if t <= lo] or [ticks[0]])
    hi = min([t for t in ticks if t >= hi] or [ticks[-1]])
    ticks = [t for t in ticks if lo <= t <= hi]

    def x(v: float) -> float:
        span = math.log10(hi) - math.log10(lo)
        return LEFT + (math.log10(v) - math.log10(lo)) / span * (RIGHT - LEFT)

    height = TOP + ROW * max(len(rows), 1) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="t">',
        f'<title id="t">pgkit benchmarks: peer median / pgkit median per comparison</title>',
        f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>',
        f'<g style="{FONT}" fill="{INK}">',
        f'<text x="{LEFT}" y="24" font-size="16" font-weight="bold">'
        "pgkit vs the tools users would pick instead</text>",
        f'<text x="{LEFT}" y="40" font-size="11">ratio = peer median / pgkit median, on a log '
        "scale: above 1× pgkit is faster (or uses less memory)</text>",
        f'<text x="{LEFT}" y="54" font-size="11">'
        + escape(f"{meta.get('mode', '')} run of {meta.get('date', '')}, "
                 f"{meta.get('machine', '')}, commit {meta.get('commit', '')}; "
                 "figures: bench/RESULTS.md")
        + "</text>",
    ]
    # Legend.
    ly = 64
    for i, (colour, label) in enumerate([(MET, "goal met"), (MISSED, "goal missed"),
                                         (NO_GOAL, "no goal")]):
        lx = LEFT + i * 110
        out.append(f'<rect x="{lx}" y="{ly}" width="12" height="10" fill="{colour}"/>')
        out.append(f'<text x="{lx + 16}" y="{ly + 9}" font-size="11">{label}</text>')
    lx = LEFT + 330
    out.append(f'<line x1="{lx + 6}" y1="{ly - 2}" x2="{lx + 6}" y2="{ly + 12}" '
               f'stroke="{INK}" stroke-width="2" stroke-dasharray="3,2"/>')
    out.append(f'<text x="{lx + 14}" y="{ly + 9}" font-size="11">goal</text>')
    # The axis: 1-2-5 ticks labelled above and below, gridlines across the bars.
    bottom = TOP + ROW * max(len(rows), 1)
    for v in ticks:
        for ty in (TOP - 8, bottom + 14):
            out.append(f'<text x="{x(v):.1f}" y="{ty}" font-size="10" '
                       f'text-anchor="middle">{escape(f"{v:g}×")}</text>')
    for i in range(len(rows)):
        by = TOP + i * ROW + 19
        for v in ticks:
            stroke, width = (INK, "1.5") if v == 1 else (GRID, "0.5")
            out.append(f'<line x1="{x(v):.1f}" y1="{by - 4}" x2="{x(v):.1f}" '
                       f'y2="{by + BAR + 4}" stroke="{stroke}" stroke-width="{width}"/>')
    one = x(1.0)
    for i, r in enumerate(rows):
        y = TOP + i * ROW
        title = f"{r['title']} vs {r['peerName']}"
        out.append(f'<text x="{LEFT}" y="{y + 13}" font-size="12">{escape(title)}</text>')
        by = y + 19
        if r.get("status") != "ok" or not r.get("ratio"):
            reason = r.get("reason") or "not measured"
            out.append(f'<text x="{one + 6:.1f}" y="{by + 11}" font-size="11" '
                       f'fill="{NO_GOAL}">{escape(r.get("status", "?") + ": " + reason)}</text>')
            continue
        ratio = r["ratio"]
        met = r.get("met")
        colour = {True: MET, False: MISSED}.get(met, NO_GOAL)
        x0, x1 = sorted((one, x(ratio)))
        tip = (f"{title}: {ratio:.3g}× (pgkit median {value(r['pgkitStats']['median'], r)}, "
               f"peer median {value(r['peerStats']['median'], r)}; goal: {r.get('goal')})")
        out.append(f'<rect x="{x0:.1f}" y="{by}" width="{max(x1 - x0, 1.5):.1f}" '
                   f'height="{BAR}" fill="{colour}"><title>{escape(tip)}</title></rect>')
        label = f"{ratio:.3f}×" if 0.95 < ratio < 1.05 else f"{ratio:.2f}×"
        if ratio >= 1:
            out.append(f'<text x="{x1 + 4:.1f}" y="{by + 11}" font-size="11" '
                       f'font-weight="bold">{label}</text>')
        else:
            out.append(f'<text x="{x0 - 4:.1f}" y="{by + 11}" font-size="11" '
                       f'font-weight="bold" text-anchor="end">{label}</text>')
        g = goal_ratio(r)
        if g:
            xg = x(g)
            out.append(f'<line x1="{xg:.1f}" y1="{by - 3}" x2="{xg:.1f}" y2="{by + BAR + 3}" '
                       f'stroke="{INK}" stroke-width="2" stroke-dasharray="3,2">'
                       f'<title>{escape("goal: " + str(r.get("goal")))}</title></line>')
    if not rows:
        out.append(f'<text x="{LEFT}" y="{TOP + 20}" font-size="12">no comparison with a peer'
                   "</text>")
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def check(svg: str, data: Optional[dict] = None) -> list[str]:
    """What is wrong with an SVG we wrote: it must parse as XML, be an <svg>
    root, and have one bar (or one 'skipped' line) per peer row."""
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as e:
        return [f"not well-formed XML: {e}"]
    problems = []
    if root.tag != "{http://www.w3.org/2000/svg}svg":
        problems.append(f"root element is {root.tag}, not svg")
    if data is not None:
        ns = "{http://www.w3.org/2000/svg}"
        drawn = [e for e in root.iter(ns + "rect") if e.find(ns + "title") is not None]
        want = [r for r in bars(data) if r.get("status") == "ok" and r.get("ratio")]
        if len(drawn) != len(want):
            problems.append(f"{len(drawn)} bars for {len(want)} measured comparisons")
    return problems


def write(results_json: Path, out: Path) -> None:
    """Writes `out` from `results_json`; raises when the result does not parse."""
    data = json.loads(results_json.read_text())
    svg = render(data)
    problems = check(svg, data)
    if problems:
        raise ValueError(f"{out}: " + "; ".join(problems))
    out.write_text(svg)


def main(argv: list[str]) -> int:
    bench = Path(__file__).resolve().parent
    if argv[:1] == ["--check"]:
        problems = [p for f in argv[1:] for p in check(Path(f).read_text())]
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    src = Path(argv[0]) if argv else bench / "results.json"
    if len(argv) > 1:
        write(src, Path(argv[1]))
    else:
        sys.stdout.write(render(json.loads(src.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
