"""Alerts and summary runs on both engines: an open occurrence is stored once, whoever asks."""

from __future__ import annotations

from firstmark.domain.alerts import Alert
from firstmark.store.protocol import Store


async def test_an_open_alert_is_stored_once_and_again_after_it_resolves(any_store: Store) -> None:
    first = Alert("link.failing", "link:1", "Link 'a' fails", {"status": 404})
    other = Alert("link.failing", "link:2", "Link 'b' fails")
    [raised] = await any_store.raise_alerts([first], 100.0)
    assert (raised.kind, raised.subject, raised.detail, raised.raised_at) == (
        "link.failing", "link:1", {"status": 404}, 100.0,
    )  # fmt: skip
    again = await any_store.raise_alerts([first, other], 200.0)
    assert [a.subject for a in again] == ["link:2"]  # link:1 is open already
    assert await any_store.resolve_alerts("link.failing", ["link:1"], 300.0) == 1
    assert await any_store.resolve_alerts("traffic.stopped", ["link:2"], 300.0) == 0
    [back] = await any_store.raise_alerts([first], 400.0)
    assert back.id != raised.id
    assert [(a.subject, a.raised_at) for a in await any_store.list_alerts(open_only=True)] == [
        ("link:1", 400.0), ("link:2", 200.0),
    ]  # fmt: skip
    window = await any_store.list_alerts(since=100.0, until=400.0)
    assert [(a.subject, a.resolved_at) for a in window] == [("link:2", None), ("link:1", 300.0)]


async def test_a_summary_period_is_claimed_once(any_store: Store) -> None:
    assert await any_store.claim_summary("week:2026-11-30", 1.0)
    assert not await any_store.claim_summary("week:2026-11-30", 2.0)
    assert await any_store.claim_summary("day:2026-12-06", 3.0)


async def test_one_checker_at_a_time(any_store: Store) -> None:
    """On PostgreSQL a second checker (another node) is told to skip its turn; one SQLite
    database serves one node, whose checker always runs."""
    several_nodes = getattr(any_store, "engine", "") == "postgres"
    async with any_store.alert_lock() as mine, any_store.alert_lock() as second:
        assert mine and second is not several_nodes
    async with any_store.alert_lock() as after:
        assert after  # released
