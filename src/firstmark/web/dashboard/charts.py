"""Charts as server-rendered SVG: no script, no library, nothing from another origin.

Each chart scales with its container (viewBox), names itself for screen readers
(role="img" with a label) and carries a <title> per point, which browsers show on hover.
The numbers are also printed as a table next to each chart by the templates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from firstmark.domain.stats import WEEKDAYS

WIDTH, HEIGHT = 960, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 28


@dataclass(frozen=True)
class Line:
    name: str
    css: str  # a class in dashboard.css that colours the line
    values: Sequence[int]


def _nice_max(value: int) -> int:
    """A round top for the y axis at or above `value`."""
    if value <= 4:
        return 4
    step = 1
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 2.5, 5, 10):
        top = int(step * factor)
        if top >= value:
            return top
    return step * 10


def time_series(labels: Sequence[str], lines: Sequence[Line], *, title: str) -> Markup:
    """A line per series over evenly spaced points (days), with a legend."""
    count = len(labels)
    top = _nice_max(max((max(line.values, default=0) for line in lines), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(v: int) -> float:
        return TOP + plot_h - plot_h * v / top

    totals = ", ".join(f"{sum(line.values):,} {line.name}" for line in lines)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}: {escape(totals)}" preserveAspectRatio="xMidYMid meet">'
    ]
    for tick in (0, top // 2, top):
        ty = y(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">{tick:,}</text>'
        )
    if count:
        for i in sorted({0, count // 2, count - 1}):
            anchor = "start" if i == 0 else "end" if i == count - 1 else "middle"
            parts.append(
                f'<text class="axis" x="{x(i):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
                f"{escape(labels[i])}</text>"
            )
    for line in lines:
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(line.values))
        parts.append(f'<polyline class="line {escape(line.css)}" points="{points}"/>')
    # One invisible band per point carries the numbers of that day as a hover title.
    band = plot_w / count if count else 0
    for i, label in enumerate(labels):
        numbers = ", ".join(f"{line.values[i]:,} {line.name}" for line in lines)
        parts.append(
            f'<rect class="band" x="{x(i) - band / 2:.1f}" y="{TOP}" width="{band:.1f}" '
            f'height="{plot_h}"><title>{escape(label)}: {escape(numbers)}</title></rect>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def heatmap(grid: Sequence[Sequence[int]], *, title: str) -> Markup:
    """Weekday rows by 24 hour columns; darker is more. Hours are UTC."""
    cell, gap, left, top = 26, 2, 36, 18
    width, height = left + 24 * cell, top + len(WEEKDAYS) * cell
    peak = max((max(row) for row in grid), default=0)
    parts = [
        f'<svg class="heatmap" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">'
    ]
    for hour in range(0, 24, 3):
        parts.append(
            f'<text class="axis" x="{left + hour * cell + cell / 2}" y="12" '
            f'text-anchor="middle">{hour:02d}</text>'
        )
    for d, name in enumerate(WEEKDAYS):
        ty = top + d * cell
        parts.append(f'<text class="axis" x="0" y="{ty + cell / 2 + 4}">{name}</text>')
        for hour in range(24):
            value = grid[d][hour]
            level = 0 if not peak or not value else 1 + round(4 * value / peak)
            parts.append(
                f'<rect class="cell l{min(level, 5)}" x="{left + hour * cell}" y="{ty}" '
                f'width="{cell - gap}" height="{cell - gap}" rx="3">'
                f"<title>{name} {hour:02d}:00-{hour:02d}:59 UTC: {value:,}</title></rect>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar(value: int, peak: int) -> Markup:
    """A small horizontal bar for a table row (inline SVG: no inline styles under the CSP)."""
    width = 0 if not peak else max(1, round(100 * value / peak)) if value else 0
    return Markup(
        '<svg class="bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">'
        f'<rect width="{width}" height="8" rx="2"/></svg>'
    )
