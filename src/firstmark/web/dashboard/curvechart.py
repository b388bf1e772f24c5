"""A channel's response curve as server-rendered SVG: its days as dots (spend, return), the
fitted curve as a line, today's and the suggested daily spend as vertical marks. Like the
other charts (charts.py): no script, scales with its container, named for screen readers,
and the numbers are in the table beside it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from firstmark.domain.budget import Curve

WIDTH, HEIGHT = 480, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 10, 12, 30
SAMPLES = 60  # points of the drawn curve


def _top(value: float) -> float:
    """A round top for an axis at or above `value` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    step = 10.0 ** math.floor(math.log10(value))
    return next(step * f for f in (1.0, 2.0, 2.5, 5.0, 10.0) if step * f >= value)


def response(
    spends: Sequence[float],
    returns: Sequence[float],
    curve: Curve,
    *,
    current: float,
    suggested: float,
    title: str,
) -> Markup:
    """The chart of one channel; `title` names it (with its numbers) for screen readers."""
    x_top = _top(max([*spends, suggested, current], default=0) * 1.05)
    y_top = _top(max([*returns, curve.value(x_top)], default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(v: float) -> float:
        return LEFT + plot_w * v / x_top

    def y(v: float) -> float:
        return TOP + plot_h - plot_h * max(0.0, min(v, y_top)) / y_top

    parts = [
        f'<svg class="chart curve" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">'
    ]
    for tick in (0.0, y_top / 2, y_top):
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}"/><text class="axis" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end">{tick:,.4g}</text>'
        )
    for tick in (0.0, x_top / 2, x_top):
        anchor = "start" if tick == 0 else "end" if tick == x_top else "middle"
        parts.append(
            f'<text class="axis" x="{x(tick):.1f}" y="{HEIGHT - 10}" '
            f'text-anchor="{anchor}">{tick:,.4g}</text>'
        )
    for mark, css, label in ((current, "now", "now"), (suggested, "suggested", "suggested")):
        parts.append(
            f'<line class="mark {css}" x1="{x(mark):.1f}" x2="{x(mark):.1f}" y1="{TOP}" '
            f'y2="{TOP + plot_h}"><title>{label}: {mark:,.2f} a day</title></line>'
        )
    line = " ".join(
        f"{x(x_top * i / SAMPLES):.1f},{y(curve.value(x_top * i / SAMPLES)):.1f}"
        for i in range(SAMPLES + 1)
    )
    parts.append(f'<polyline class="line fitted" points="{line}"/>')
    for spend, got in zip(spends, returns, strict=True):
        if spend > 0:
            parts.append(
                f'<circle class="day" cx="{x(spend):.1f}" cy="{y(got):.1f}" r="3">'
                f"<title>spend {spend:,.2f}: {got:,.2f}</title></circle>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
