"""Session cookies, CSRF tokens, the login throttle and the SVG charts, without HTTP."""

from __future__ import annotations

import re

import pytest

from firstmark.web.dashboard import charts
from firstmark.web.dashboard.sessions import Session, Sessions
from firstmark.web.dashboard.views import safe_next


def test_a_session_round_trips_and_other_secrets_cannot_read_it() -> None:
    sessions = Sessions("one", max_age_s=60, secure=False)
    raw = sessions._cookie.dumps({"n": "nonce", "s": "session-id", "u": 7, "name": "ada"})
    # The cookie names the server-side session; who is logged in comes from the server.
    assert sessions.read(raw) == Session("nonce", "session-id")
    assert Sessions("two", max_age_s=60, secure=False).read(raw) is None
    assert sessions.read("garbage") is None and sessions.read(None) is None


def test_csrf_tokens_belong_to_one_session() -> None:
    sessions = Sessions("s", max_age_s=60, secure=False)
    mine, theirs = sessions.new(), sessions.new()
    assert mine.nonce != theirs.nonce
    assert sessions.csrf_ok(mine, sessions.csrf_token(mine))
    assert not sessions.csrf_ok(mine, sessions.csrf_token(theirs))
    assert not sessions.csrf_ok(None, sessions.csrf_token(mine))
    forged = Sessions("other", max_age_s=60, secure=False).csrf_token(mine)
    assert not sessions.csrf_ok(mine, forged)
    assert not sessions.csrf_ok(mine, "") and not sessions.csrf_ok(mine, None)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (None, "/dashboard"),
        ("/dashboard/links?q=a", "/dashboard/links?q=a"),
        ("//evil.example/dashboard", "/dashboard"),
        ("https://evil.example/dashboard", "/dashboard"),
        ("/api/v1/links", "/dashboard"),
        ("/dashboard\\@evil.example", "/dashboard"),
        ("/dashboardx", "/dashboard"),
        ("/dashboard/../api/v1/links", "/dashboard"),
        ("/dashboard/%2E%2E/api", "/dashboard"),
        ("/dashboard/\tx", "/dashboard"),
        ("/dashboard/", "/dashboard/"),
        ("/dashboard/links/3?from=2026-01-01", "/dashboard/links/3?from=2026-01-01"),
    ],
)
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_time_series_escapes_labels_and_draws_every_point() -> None:
    svg = charts.time_series(
        ["<a>", "b", "c"],
        [charts.Line("clicks", "clicks", [1, 5, 2]), charts.Line("scans", "scans", [0, 0, 9])],
        title="T & U",
    )
    assert "<a>" not in svg and "&lt;a&gt;" in svg and "T &amp; U" in svg
    assert svg.count("<polyline") == 2 and svg.count('<rect class="band"') == 3
    assert "16 scans" not in svg and "9 scans" in svg and "8 clicks" in svg
    points = re.findall(r'points="([^"]+)"', svg)[1].split()
    assert len(points) == 3


@pytest.mark.parametrize(("value", "top"), [(0, 4), (4, 4), (5, 5), (7, 10), (11, 20), (230, 250)])
def test_the_y_axis_ends_on_a_round_number(value: int, top: int) -> None:
    assert charts._nice_max(value) == top


def test_heatmap_shades_relative_to_the_busiest_hour() -> None:
    grid = [[0] * 24 for _ in range(7)]
    grid[2][13] = 8
    grid[0][0] = 2
    svg = charts.heatmap(grid, title="h")
    assert svg.count('class="cell l0"') == 166
    assert "Wed 13:00-13:59 UTC: 8" in svg and 'class="cell l5"' in svg
