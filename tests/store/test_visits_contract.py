"""Store contract for visits and channel rules (every engine)."""

from __future__ import annotations

from dataclasses import replace

from firstmark.domain.channels import parse_rule
from firstmark.domain.visits import Visit
from firstmark.store.protocol import Store

T0 = 1_764_000_000.0


def visit(**fields: object) -> Visit:
    values: dict[str, object] = {
        "site_id": 1, "key": "h:abc", "started": T0, "last_ts": T0, "visitor_day_hash": "abc",
        "entry_path": "/", "exit_path": "/", "pageviews": 1, "events": 0,
        "source": "chatgpt.com", "medium": "referral", "channel": "AI Assistants",
    }  # fmt: skip
    values.update(fields)
    return Visit(**values)  # type: ignore[arg-type]


async def test_visits_are_stored_updated_and_found_open(any_store: Store) -> None:
    first = visit(click_ids="gclid,msclkid", country="DE", browser="Firefox", is_bot=False)
    other = visit(key="s:sess-1", visitor_id="v-1234567", started=T0 + 5, last_ts=T0 + 5)
    await any_store.write_events([], [], [], [], [first, other])
    later = replace(first, last_ts=T0 + 600, exit_path="/b", pageviews=2, events=1,
                    conversions=1, revenue=12.5)  # fmt: skip
    await any_store.write_events([], [], [], [], [later])
    stored = sorted(await any_store.list_visits(1), key=lambda v: v.started)
    assert [replace(v, id=None) for v in stored] == [later, other]
    assert all(v.id is not None for v in stored)
    found = await any_store.open_visits([(1, "h:abc"), (1, "s:sess-1"), (2, "h:abc")], T0 + 300)
    assert [replace(v, id=None) for v in found] == [later]
    # A later visit of the same key is the open one.
    newer = visit(started=T0 + 4000, last_ts=T0 + 4000)
    await any_store.write_events([], [], [], [], [newer])
    [found_new] = await any_store.open_visits([(1, "h:abc")], T0)
    assert found_new.started == T0 + 4000
    bot = visit(key="h:bot", is_bot=True)
    await any_store.write_events([], [], [], [], [bot])
    assert [v.is_bot for v in await any_store.open_visits([(1, "h:bot")], T0)] == [True]


async def test_channel_rules_round_trip(any_store: Store) -> None:
    first = await any_store.insert_channel_rule(
        parse_rule({"field": "source", "value": "partnerx", "channel": "Affiliates"})
    )
    second = await any_store.insert_channel_rule(
        parse_rule({"action": "exclude", "value": "pay.example"})
    )
    assert first.id is not None and second.id is not None and first.id < second.id
    assert [r.value for r in await any_store.list_channel_rules()] == ["partnerx", "pay.example"]
    assert await any_store.delete_channel_rule(first.id)
    assert not await any_store.delete_channel_rule(first.id)
    assert [r.channel for r in await any_store.list_channel_rules()] == [None]
