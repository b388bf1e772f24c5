"""The response curve chart: every day a dot where its numbers put it, the curve drawn, the
two spend marks, and a name for screen readers."""

from __future__ import annotations

import re

from firstmark.domain.budget import Curve
from firstmark.web.dashboard.curvechart import HEIGHT, LEFT, WIDTH, response


def test_the_chart_shows_each_day_the_curve_and_both_marks() -> None:
    chart = response(
        [0.0, 100.0, 200.0],
        [0.0, 60.0, 90.0],
        Curve(100, 100),
        current=100.0,
        suggested=150.0,
        title="Search & co",
    )
    svg = str(chart)
    assert 'aria-label="Search &amp; co"' in svg
    dots = re.findall(r'<circle class="day" cx="([\d.]+)" cy="([\d.]+)"', svg)
    assert len(dots) == 2  # a day without spend is no point on the curve
    assert "spend 100.00: 60.00" in svg
    xs = [float(x) for x, _ in dots]
    ys = [float(y) for _, y in dots]
    assert LEFT < xs[0] < xs[1] < WIDTH and ys[1] < ys[0] < HEIGHT  # more spend, more return
    assert svg.count('class="mark ') == 2 and "suggested: 150.00 a day" in svg
    assert svg.count('<polyline class="line fitted"') == 1
