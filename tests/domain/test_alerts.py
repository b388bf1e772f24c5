"""The alert checks, without IO: what each finds, and that an occurrence is told once."""

from __future__ import annotations

from datetime import UTC, datetime

from firstmark.domain import alerts
from firstmark.domain.alerts import Alert, Traffic
from firstmark.domain.destinations import Destination
from firstmark.domain.linkcheck import Health

CHECKED = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def destination(id: int, name: str, status: str, enabled: bool = True) -> Destination:
    return Destination(
        platform="meta", name=name, credentials_sealed="x", credential_fields=(), goals={},
        enabled=enabled, auth_status=status, id=id,
    )  # fmt: skip


def test_only_enabled_destinations_refused_by_their_platform_need_reauth() -> None:
    found = alerts.needs_reauth(
        [
            destination(1, "meta-eu", "needs_reauth"),
            destination(2, "meta-us", "ok"),
            destination(3, "old", "needs_reauth", enabled=False),
        ]
    )
    assert [(a.kind, a.subject) for a in found] == [("destination.needs_reauth", "destination:1")]
    assert "meta-eu" in found[0].message
    assert found[0].detail == {"destination": {"id": 1, "platform": "meta", "name": "meta-eu"}}


def test_a_dead_letter_spike_is_more_than_the_threshold_in_the_hour() -> None:
    assert alerts.dead_letters(20, 20) == []
    [spike] = alerts.dead_letters(21, 20)
    assert spike.subject == "outbox" and spike.detail["dead"] == 21
    assert "21 conversions" in spike.message


def test_failing_links_name_the_link_and_why() -> None:
    health = {
        1: Health(1, "https://shop.example/a", CHECKED, False, 404, "HTTP 404"),
        2: Health(2, "https://shop.example/b", CHECKED, True, 200),
        3: Health(3, "https://gone.example/", CHECKED, False, None, "timed out"),
    }
    found = alerts.failing_links({1: "spring", 2: "summer", 3: "autumn", 4: "unchecked"}, health)
    assert [a.subject for a in found] == ["link:1", "link:3"]
    assert "'spring'" in found[0].message and "HTTP 404" in found[0].message
    assert "timed out" in found[1].message
    assert found[0].detail["checked_at"] == "2026-11-30T08:00:00Z"


def test_traffic_stopped_needs_seven_steady_days_then_a_quiet_day() -> None:
    steady = [5, 3, 8, 1, 2, 9, 4]
    assert alerts.stopped(steady, 0)
    assert not alerts.stopped(steady, 1)  # still some traffic
    assert not alerts.stopped([5, 3, 0, 1, 2, 9, 4], 0)  # a quiet day before: not steady
    assert not alerts.stopped([5, 3, 8], 0)  # too young to judge


def test_traffic_stopped_alerts_per_link_and_site() -> None:
    found = alerts.traffic_stopped(
        [
            Traffic("link", 7, "spring", [1] * 7, 0),
            Traffic("link", 8, "summer", [1] * 7, 3),
            Traffic("site", 2, "shop.example", [40] * 7, 0),
        ]
    )
    assert [a.subject for a in found] == ["link:7", "site:2"]
    assert found[0].message.startswith("Link 'spring'")
    assert found[1].detail == {"site": {"id": 2, "name": "shop.example"}, "daily": [40] * 7}


def test_an_open_occurrence_is_not_raised_again_and_ends_when_gone() -> None:
    a = Alert("link.failing", "link:1", "x")
    b = Alert("link.failing", "link:2", "y")
    new, gone = alerts.opened_and_resolved(["link:1", "link:9"], [a, b])
    assert new == [b]  # link:1 is open already
    assert gone == ["link:9"]  # no longer found: resolved
    assert alerts.opened_and_resolved(["link:1", "link:2"], [a, b]) == ([], [])
