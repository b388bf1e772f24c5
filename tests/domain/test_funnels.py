"""Funnels: checked input, page patterns, steps in order within a visit or within days."""

from __future__ import annotations

import pytest

from firstmark.domain.funnels import Funnel, Step, StepEvent, like_pattern, matches, parse, report
from firstmark.errors import InvalidField

STEPS = (Step("page", "/pricing"), Step("page", "/signup/*"), Step("event", "signup"))


def hit(visitor: str, visit: str, ts: float, kind: str = "pageview", path: str = "/",
        name: str = "pageview", consented: bool = False) -> StepEvent:  # fmt: skip
    return StepEvent((visit, 0.0), visitor, consented, ts, kind, path, name)


def test_steps_are_counted_in_order_within_a_visit() -> None:
    funnel = Funnel(1, "signup", STEPS)
    hits = [
        # a: all three steps, in order
        hit("a", "a1", 1, path="/pricing"), hit("a", "a1", 2, path="/signup/form"),
        hit("a", "a1", 3, "event", "/signup/form", "signup"),
        # b: signup page before pricing: only the first step counts
        hit("b", "b1", 1, path="/signup/form"), hit("b", "b1", 2, path="/pricing"),
        # c: two steps, the last one in another visit (not consented: not followed)
        hit("c", "c1", 1, path="/pricing"), hit("c", "c1", 2, path="/signup/x"),
        hit("c", "c2", 9, "event", "/", "signup"),
        # d: never on the first step
        hit("d", "d1", 1, "event", "/", "signup"),
    ]  # fmt: skip
    rows = report(funnel, hits)
    found = [(r["visitors"], r["conversion_rate"], r["drop_off"], r["drop_off_rate"]) for r in rows]
    assert found == [(3, 100.0, 0, 0.0), (2, 66.7, 1, 33.3), (1, 33.3, 1, 50.0)]
    assert rows[0]["page"] == "/pricing" and rows[2]["event"] == "signup"


def test_within_days_follows_consented_visitors_across_visits_inside_the_window() -> None:
    funnel = Funnel(1, "signup", STEPS, "days", 2)
    day = 86400.0
    hits = [
        hit("v", "v1", 0, path="/pricing", consented=True),
        hit("v", "v2", day, path="/signup/a", consented=True),
        hit("v", "v3", 3 * day, "event", "/", "signup", consented=True),  # too late ...
        hit("v", "v3", 3 * day + 1, path="/pricing", consented=True),  # ... but a new start
        hit("v", "v4", 4 * day, path="/signup/b", consented=True),
        hit("v", "v4", 4 * day + 5, "event", "/", "signup", consented=True),
        # not consented: across visits does not count
        hit("h", "h1", 0, path="/pricing"), hit("h", "h2", 10, path="/signup/a"),
    ]  # fmt: skip
    assert [r["visitors"] for r in report(funnel, hits)] == [2, 1, 1]


def test_patterns() -> None:
    assert matches(Step("page", "/blog/*"), "pageview", "/blog/a/b", "pageview")
    assert not matches(Step("page", "/blog/*"), "pageview", "/blogs", "pageview")
    assert matches(Step("page", "/a.b"), "pageview", "/a.b", "pageview")
    assert not matches(Step("page", "/a.b"), "pageview", "/axb", "pageview")
    assert not matches(Step("event", "signup"), "pageview", "/", "signup")
    assert like_pattern("/a_b%/*") == "/a\\_b\\%/%"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"name": "x", "steps": [{"page": "/"}, {"page": "/b"}]}, "site"),
        ({"site": 1, "steps": [{"page": "/"}, {"page": "/b"}]}, "name"),
        ({"site": 1, "name": "x", "steps": [{"page": "/"}]}, "steps"),
        ({"site": 1, "name": "x", "steps": [{"page": "/"}] * 9}, "steps"),
        ({"site": 1, "name": "x", "steps": [{"page": "/"}, {"url": "/b"}]}, "steps[1]"),
        ({"site": 1, "name": "x", "steps": [{"page": "/"}, {"page": "b"}]}, "steps[1].page"),
        ({"site": 1, "name": "x", "steps": [{"page": "/"}, {"event": "a;b"}]}, "steps[1].event"),
        ({"site": 1, "name": "x", "steps": [{"page": "/"}, {"page": "/b"}], "within": "week"},
         "within"),
        ({"site": 1, "name": "x", "steps": [{"page": "/"}, {"page": "/b"}], "within": "days",
          "days": 91}, "days"),
        ({"site": 1, "name": "x", "steps": [{"page": "/"}, {"page": "/b"}], "days": 3}, "days"),
        ({"site": 1, "name": "x", "steps": [{"page": "/"}, {"page": "/b"}], "more": 1}, "more"),
    ],
)  # fmt: skip
def test_bad_funnels_name_the_field(body: object, field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        parse(body)
    assert caught.value.field == field
