"""Store contract for sites, goals, events, touches and conversions (every engine)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.events import Event, Touch
from firstmark.domain.goals import Goal
from firstmark.domain.sites import Site, new_key
from firstmark.errors import Conflict, NotFound
from firstmark.store.protocol import Store

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TS = NOW.timestamp()
FULL = Consent(analytics=True, ad_storage=True, ad_user_data=True, ad_personalization=False)


def event(site_id: int, ts: float = TS, **fields: object) -> Event:
    values: dict[str, object] = {
        "site_id": site_id, "ts": ts, "kind": "pageview", "name": "pageview", "path": "/",
        "visitor_day_hash": "abc", "consent": "none",
    }  # fmt: skip
    values.update(fields)
    return Event(**values)  # type: ignore[arg-type]


def conversion(goal_id: int, event_id: str, **fields: object) -> Conversion:
    values: dict[str, object] = {
        "event_id": event_id, "goal_id": goal_id, "ts": TS, "consent": FULL, "source": "server",
    }  # fmt: skip
    values.update(fields)
    return Conversion(**values)  # type: ignore[arg-type]


async def test_sites_round_trip_and_hosts_are_unique(any_store: Store) -> None:
    site = Site("Shop", new_key(), ("shop.example", "www.shop.example"), created_at=NOW)
    saved = await any_store.insert_site(site)
    assert saved.id is not None and replace(saved, id=None) == replace(
        site, hosts=("shop.example", "www.shop.example")
    )
    assert await any_store.site_by_key(site.key) == saved
    assert await any_store.site_by_key(new_key()) is None
    with pytest.raises(Conflict) as caught:
        await any_store.insert_site(Site("Other", new_key(), ("shop.example",), created_at=NOW))
    assert caught.value.field == "hosts"
    assert await any_store.list_sites() == [saved]
    assert saved.id is not None
    moved = await any_store.set_site_hosts(saved.id, ["shop.example", "m.shop.example"])
    assert moved.hosts == ("m.shop.example", "shop.example") and moved.key == site.key
    other = await any_store.insert_site(
        Site("Other", new_key(), ("other.example",), created_at=NOW)
    )
    assert other.id is not None
    with pytest.raises(Conflict):
        await any_store.set_site_hosts(other.id, ["other.example", "m.shop.example"])
    assert await any_store.site_by_key(other.key) == other  # unchanged
    with pytest.raises(NotFound):
        await any_store.set_site_hosts(other.id + 1, ["x.example"])


async def test_goals_round_trip_and_names_are_unique(any_store: Store) -> None:
    goal = Goal("purchase", "macro", "", 49.0, "EUR", 60, created_at=NOW)
    saved = await any_store.insert_goal(goal)
    assert saved.id is not None and replace(saved, id=None) == goal
    with pytest.raises(Conflict):
        await any_store.insert_goal(Goal("purchase", "micro", created_at=NOW))
    micro = await any_store.insert_goal(Goal("signup", "micro", "sign_up", created_at=NOW))
    assert [g.name for g in await any_store.list_goals()] == ["purchase", "signup"]
    assert micro.matches == "sign_up"


async def test_events_touches_and_web_conversions_in_one_write(any_store: Store) -> None:
    site = await any_store.insert_site(Site("S", new_key(), ("s.example",), created_at=NOW))
    goal = await any_store.insert_goal(Goal("signup", created_at=NOW))
    assert site.id is not None and goal.id is not None
    rows = [
        event(site.id, TS, props='{"plan":"pro"}', utm_source="news", visitor_id="v" * 10),
        event(site.id, TS + 1, kind="event", name="signup", value=9.5, currency="EUR"),
    ]
    touch = Touch(TS, site.id, "v" * 10, "tok", 7, "news", "email", click_ids={"gclid": "G1"})
    stored = await any_store.write_events(
        rows, [touch], [conversion(goal.id, "web-1", source="web"), conversion(goal.id, "web-1")]
    )
    assert stored == 1  # the second has the same event_id
    assert await any_store.count_events() == 2
    assert await any_store.count_events(site.id) == 2
    assert await any_store.count_events(site.id + 1) == 0
    assert await any_store.list_events(site.id) == list(reversed(rows))
    found = await any_store.touches_for("v" * 10, None, TS - 10, TS + 10)
    assert [replace(t, id=None) for t in found] == [touch]
    assert await any_store.touches_for(None, "tok", TS - 10, TS + 10) == found
    assert await any_store.touches_for("v" * 10, None, TS + 1, TS + 10) == []
    assert await any_store.touches_for(None, None, 0, TS + 10) == []


async def test_conversions_are_idempotent_by_event_id_and_order_per_goal(any_store: Store) -> None:
    a = await any_store.insert_goal(Goal("purchase", created_at=NOW))
    b = await any_store.insert_goal(Goal("refund", created_at=NOW))
    assert a.id is not None and b.id is not None
    first = conversion(
        a.id, "e1", order_id="o1", value=10.0, currency="EUR", link_id=3,
        user_data={"em": "f" * 64}, utm_source="news",
    )  # fmt: skip
    [(saved, dup)] = await any_store.insert_conversions([first])
    assert not dup and saved.id is not None and saved.goal == "purchase"
    assert replace(saved, id=None, goal="", created_at=None) == first
    results = await any_store.insert_conversions(
        [
            conversion(a.id, "e1", value=99.0),  # same event_id
            conversion(a.id, "e2", order_id="o1"),  # same order for the goal
            conversion(b.id, "e3", order_id="o1"),  # same order, another goal: new
            conversion(a.id, "e4"),  # no order ids do not collide
            conversion(a.id, "e5"),
        ]
    )
    assert [(c.event_id, d) for c, d in results] == [
        ("e1", True), ("e1", True), ("e3", False), ("e4", False), ("e5", False),
    ]  # fmt: skip
    assert results[0][0] == saved  # the earlier one, unchanged
    listed, total = await any_store.list_conversions(None, 10, 0)
    assert total == 4 and {c.event_id for c in listed} == {"e1", "e3", "e4", "e5"}
    only_b, total_b = await any_store.list_conversions(b.id, 10, 0)
    assert total_b == 1 and only_b[0].goal == "refund"
    assert await any_store.get_conversion(saved.id) == saved
    assert await any_store.get_conversion(saved.id + 100) is None


async def test_a_conversion_sent_twice_at_once_is_stored_once(any_store: Store) -> None:
    goal = await any_store.insert_goal(Goal("purchase", created_at=NOW))
    assert goal.id is not None
    sends = [conversion(goal.id, "same", order_id=f"o{n}", value=float(n)) for n in range(4)]
    results = await asyncio.gather(*(any_store.insert_conversions([c]) for c in sends))
    outcomes = [r for [r] in results]
    assert sorted(dup for _, dup in outcomes) == [False, True, True, True]
    assert len({saved.id for saved, _ in outcomes}) == 1  # each answer names the stored one
    assert (await any_store.list_conversions(goal.id, 10, 0))[1] == 1
