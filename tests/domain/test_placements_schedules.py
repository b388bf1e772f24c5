"""Placement input, placement links, and event schedules folded into a link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from firstmark.domain import placements, schedules
from firstmark.domain.links import Link
from firstmark.domain.redirects import Outcome, choose, compile_link, outcome
from firstmark.domain.rules import Visit
from firstmark.errors import InvalidField

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "name"),
        ({"name": "x", "quantity": -1}, "quantity"),
        ({"name": "x", "quantity": True}, "quantity"),
        ({"name": "x", "print_cost": "1e999999"}, "print_cost"),
        ({"name": "x", "print_cost": "-5", "currency": "EUR"}, "print_cost"),
        ({"name": "x", "print_cost": "5"}, "currency"),
        ({"name": "x", "print_cost": "5", "currency": "euro"}, "currency"),
        ({"name": "x", "starts_on": "2026-02-02", "ends_on": "2026-02-01"}, "ends_on"),
        ({"name": "x", "code": "q"}, "code"),
        ({"name": "x", "where": "here"}, "where"),
        ({"name": "a\x00b"}, "name"),
    ],
)
def test_bad_placements_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        placements.parse(data, 1)
    assert caught.value.field == field


def test_placement_link_shares_the_parent() -> None:
    parent = Link(
        id=7,
        destination="https://a.example/x",
        code="p",
        utm_source="print",
        utm_content="ignored",
        redirect_status=307,
        tags=("t",),
    )
    draft = placements.parse({"name": "Poster Oslo S", "print_cost": 12.5, "currency": "nok"}, 7)
    assert draft.placement.print_cost == Decimal("12.5")
    child = placements.placement_link(parent, draft, NOW)
    assert (child.kind, child.placement, child.utm_content) == (
        "qr",
        "Poster Oslo S",
        "poster-oslo-s",
    )
    assert (child.destination, child.utm_source, child.redirect_status, child.tags) == (
        "https://a.example/x",
        "print",
        307,
        ("t",),
    )
    assert child.code != "p" and len(child.code) == 7
    moved = placements.follow(child, Link(destination="https://b.example/", code="p"), NOW)
    assert (moved.destination, moved.utm_source, moved.utm_content, moved.code) == (
        "https://b.example/",
        None,
        "poster-oslo-s",
        child.code,
    )


def test_file_names_are_safe_and_unique() -> None:
    taken: set[str] = set()
    a = placements.Placement(parent_id=1, name="../Poster: Oslo/S", code="abc")
    b = placements.Placement(parent_id=1, name="../Poster: Oslo/S!", code="def")
    assert placements.file_name(a, "png", taken) == "Poster-Oslo-S.png"
    assert placements.file_name(b, "png", taken) == "Poster-Oslo-S-def.png"


def _schedule(**fields: object) -> schedules.Schedule:
    values: dict[str, object] = {
        "link_id": 1,
        "starts_at": NOW,
        "ends_at": NOW + timedelta(hours=8),
        "before_url": "https://a.example/before",
        "during_url": "https://a.example/during",
        "after_url": "https://a.example/after",
    }
    values.update(fields)
    return schedules.Schedule(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("offset", "where"),
    [(-1, "before"), (0, "during"), (7.9, "during"), (8, "after"), (100, "after")],
)
def test_schedule_windows(offset: float, where: str) -> None:
    link = Link(id=1, destination="https://a.example/", code="c")
    target = compile_link(schedules.apply(link, _schedule()), "fm_click")
    at = NOW + timedelta(hours=offset)
    assert choose(target, Visit(now=at)).base == f"https://a.example/{where}"
    assert _schedule().phase(at) == where


def test_retirement_becomes_expiry_with_fallback() -> None:
    link = Link(id=1, destination="https://a.example/", code="c")
    retire = NOW + timedelta(days=2)
    changed = schedules.apply(link, _schedule(retire_at=retire, fallback_url="https://a.example/f"))
    target = compile_link(changed, "fm_click")
    assert outcome(target, (retire - timedelta(seconds=1)).timestamp(), 0) is Outcome.REDIRECT
    assert outcome(target, retire.timestamp(), 0) is Outcome.EXPIRED
    assert changed.fallback_url == "https://a.example/f"
    assert schedules.apply(link, None) is link


def test_summary_splits_scans_by_phase() -> None:
    s = _schedule()
    hour = int(NOW.timestamp())
    summary = schedules.summarise(
        s, [(hour - 3600, 2, 1), (hour, 5, 4), (hour + 8 * 3600, 1, 1)], [("gate", 3, 2)]
    )
    assert summary["phases"] == {
        "before": {"scans": 2, "unique_scans": 1},
        "during": {"scans": 5, "unique_scans": 4},
        "after": {"scans": 1, "unique_scans": 1},
    }
    assert (summary["scans"], summary["unique_scans"]) == (8, 6)
    assert summary["placements"] == [{"name": "gate", "scans": 3, "unique_scans": 2}]


def test_check_csv_lists_every_bad_row() -> None:
    text = "name,quantity,code\nok,1,\nbad,many,\nok,2,\n,3,\nfine,4,api\nlast,5,\n"
    drafts, problems = placements.check_csv(text, 1)
    assert [(p.row, p.column) for p in problems] == [
        (3, "quantity"), (4, "name"), (5, "name"), (6, "code"),
    ]  # fmt: skip
    assert [d.placement.name for d in drafts] == ["ok", "last"]
