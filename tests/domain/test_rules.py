"""Redirect rules: parsing and first-match-wins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain.rules import Visit, matches, parse_languages, parse_rules, pick, rules_to_json
from firstmark.errors import InvalidField

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
RULES = parse_rules(
    [
        {"device": ["mobile", "tablet"], "os": "iOS", "destination": "https://a.example/ios"},
        {"country": ["no", "SE"], "destination": "https://a.example/nordics"},
        {"language": "de", "destination": "https://a.example/de"},
        {"query": {"v": "b", "src": None}, "destination": "https://a.example/b"},
        {"from": "2026-12-24", "until": "2026-12-27", "destination": "https://a.example/xmas"},
    ]
)


@pytest.mark.parametrize(
    ("visit", "expected"),
    [
        (Visit(NOW, device_type="mobile", os="iOS"), "https://a.example/ios"),
        (Visit(NOW, device_type="desktop", os="macOS"), None),
        (Visit(NOW, device_type="mobile", os="iOS", country="NO"), "https://a.example/ios"),
        (Visit(NOW, country="SE"), "https://a.example/nordics"),
        (Visit(NOW, languages=("de-at", "en")), "https://a.example/de"),
        (Visit(NOW, languages=("den",)), None),
        (Visit(NOW, query={"v": "b", "src": "x"}), "https://a.example/b"),
        (Visit(NOW, query={"v": "b"}), None),
        (Visit(datetime(2026, 12, 25, tzinfo=UTC)), "https://a.example/xmas"),
        (Visit(datetime(2026, 12, 27, tzinfo=UTC)), None),
    ],
)
def test_first_matching_rule_wins(visit: Visit, expected: str | None) -> None:
    rule = pick(RULES, visit)
    assert (rule.destination if rule else None) == expected


def test_rules_round_trip_through_json() -> None:
    assert parse_rules(rules_to_json(RULES)) == RULES


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ("mobile", "rules"),
        ([{"device": "mobile"}], "rules[0].destination"),
        ([{"destination": "https://a.example/"}], "rules[0]"),
        ([{"device": "phone", "destination": "https://a.example/"}], "rules[0].device"),
        ([{"weather": "rain", "destination": "https://a.example/"}], "rules[0].weather"),
        ([{"country": "Norway", "destination": "https://a.example/"}], "rules[0].country"),
        ([{"query": {"v": 1}, "destination": "https://a.example/"}], "rules[0].query"),
        (
            [{"from": "2027-01-02", "until": "2027-01-01", "destination": "https://a.example/"}],
            "rules[0].until",
        ),
        ([{"device": [], "destination": "https://a.example/"}], "rules[0].device"),
        ([{"device": "mobile", "destination": "https://a.example/"}] * 51, "rules"),
    ],
)
def test_bad_rules_name_the_field(rules: object, field: str) -> None:
    with pytest.raises(InvalidField) as err:
        parse_rules(rules)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("nb-NO,nb;q=0.9,en;q=0.8", ("nb-no", "nb", "en")),
        ("en;q=0.1, de", ("de", "en")),
        ("*", ()),
        ("fr;q=0", ()),
        ("", ()),
        ("en;q=abc", ()),
    ],
)
def test_accept_language(header: str, expected: tuple[str, ...]) -> None:
    assert parse_languages(header) == expected


@given(st.text(max_size=300))
def test_accept_language_never_raises(header: str) -> None:
    assert all(isinstance(tag, str) for tag in parse_languages(header))


def test_a_visit_with_nothing_known_matches_only_unconditional_time_rules() -> None:
    assert not any(matches(rule, Visit(NOW)) for rule in RULES)
