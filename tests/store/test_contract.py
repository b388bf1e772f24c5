"""The Store contract: every engine answers the same questions the same way."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from firstmark.domain.hits import Hit
from firstmark.domain.keys import new_key
from firstmark.domain.links import Link
from firstmark.domain.rules import Rule
from firstmark.errors import Conflict, NotFound, SlugTaken
from firstmark.store import create_store
from firstmark.store.protocol import Domain, LinkQuery, Store, User

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def link(code: str, **fields: Any) -> Link:
    return Link(
        destination="https://a.example/", code=code, created_at=NOW, updated_at=NOW, **fields
    )


def hit(
    link_id: int, ts: float, visitor: str = "v1", *, kind: str = "click", bot: bool = False
) -> Hit:
    return Hit(
        link_id=link_id, ts=ts, kind=kind, visitor_day_hash=visitor, country="NO", region=None,
        city=None, device_type="mobile", os="iOS", browser="Mobile Safari", referrer_host=None,
        is_bot=bot, bot_reason="crawler:x" if bot else None, lang="nb",
    )  # fmt: skip


async def test_link_round_trip(any_store: Store) -> None:
    original = link(
        "round",
        domain="go.example",
        utm_source="news",
        tags=("a", "b"),
        rules=(Rule(destination="https://m.example/", device=("mobile",)),),
        max_hits=10,
        expires_at=datetime(2027, 1, 1, tzinfo=UTC),
        password_hash="scrypt$x",
        redirect_status=307,
        forward_query=True,
    )
    saved = await any_store.insert_link(original)
    assert saved.id is not None
    assert replace(saved, id=None) == original
    assert await any_store.get_link(saved.id) == saved
    assert await any_store.link_by_code("go.example", "round") == saved
    assert await any_store.link_by_code("other.example", "round") is None


async def test_codes_are_unique_per_domain(any_store: Store) -> None:
    await any_store.insert_link(link("same"))
    await any_store.insert_link(link("same", domain="go.example"))
    with pytest.raises(SlugTaken):
        await any_store.insert_link(link("same"))
    assert await any_store.count_links() == 2
    # The host's own link wins over the default domain's.
    found = await any_store.link_by_code("go.example", "same")
    assert found is not None and found.domain == "go.example"
    fallback = await any_store.link_by_code("elsewhere.example", "same")
    assert fallback is not None and fallback.domain == ""


async def test_update_checks_version_and_uniqueness(any_store: Store) -> None:
    a = await any_store.insert_link(link("a", tags=("x",)))
    await any_store.insert_link(link("b"))
    changed = await any_store.update_link(
        replace(a, destination="https://b.example/", tags=("y",), version=2)
    )
    assert changed.destination == "https://b.example/" and changed.tags == ("y",)
    with pytest.raises(Conflict):
        await any_store.update_link(replace(a, destination="https://stale.example/", version=2))
    with pytest.raises(SlugTaken):
        await any_store.update_link(replace(changed, code="b", version=3))
    with pytest.raises(NotFound):
        await any_store.update_link(replace(changed, id=999, version=3))
    kept = await any_store.get_link(changed.id or 0)
    assert kept == changed


async def test_list_links_filters(any_store: Store) -> None:
    await any_store.insert_link(link("l1", utm_source="google", tags=("print",)))
    await any_store.insert_link(link("l2", utm_source="google", archived=True))
    await any_store.insert_link(link("l3", utm_source="bing", campaign="spring"))
    items, total = await any_store.list_links(LinkQuery(filters={"utm_source": "google"}))
    assert [i.code for i in items] == ["l1"] and total == 1
    items, total = await any_store.list_links(
        LinkQuery(filters={"utm_source": "google"}, archived=None)
    )
    assert total == 2
    items, _ = await any_store.list_links(LinkQuery(filters={"tag": "print"}))
    assert [i.code for i in items] == ["l1"]
    items, _ = await any_store.list_links(LinkQuery(filters={}, search="l_"))
    assert items == []  # '_' is literal, not a wildcard
    items, total = await any_store.list_links(LinkQuery(filters={}, limit=1, offset=1))
    assert [i.code for i in items] == ["l1"] and total == 2
    in_use = await any_store.utm_values_in_use()
    assert in_use["utm_source"] == ["bing", "google"]


async def test_hits_rollups_and_uniques(any_store: Store) -> None:
    saved = await any_store.insert_link(link("h"))
    lid = saved.id or 0
    hour = int(NOW.timestamp())
    await any_store.write_hits(
        [hit(lid, hour + 1), hit(lid, hour + 2), hit(lid, hour + 3, "v2", kind="scan")]
    )
    await any_store.write_hits(
        [hit(lid, hour + 3600, "v1"), hit(lid, hour + 3601, "bot", bot=True)]
    )
    assert await any_store.count_hits(lid) == 5
    assert await any_store.human_hit_count(lid) == 4
    rollups = await any_store.rollups([lid], hour - 3600, hour + 7200)
    summary = {(r.hour - hour, r.kind): (r.hits, r.bot_hits, r.uniques) for r in rollups}
    # v1 is unique once that day (in its first hour), v2 once, the bot never.
    assert summary == {(0, "click"): (2, 0, 1), (0, "scan"): (1, 0, 1), (3600, "click"): (2, 1, 0)}
    countries = await any_store.breakdown(lid, "country", hour - 10, hour + 7200, 10)
    assert countries == [("NO", 4, 2)]
    groups = await any_store.group_totals("utm_source", hour - 10, hour + 7200)
    assert [(g.value, g.hits, g.bot_hits, g.clicks, g.scans) for g in groups] == [
        (None, 5, 1, 3, 1)
    ]


async def test_salts_are_made_once_and_forgotten(any_store: Store) -> None:
    day = int(time.time() // 86400)
    first = await any_store.salt_for_day(day)
    assert len(first) == 32
    assert await any_store.salt_for_day(day) == first
    await any_store.salt_for_day(day - 5)
    assert await any_store.forget_salts(day - 1) == 1
    assert await any_store.salt_for_day(day - 5) != b""  # a new one, the old is gone for good


async def test_api_keys(any_store: Store) -> None:
    _, key = new_key(("links:read",), name="ci")
    saved = await any_store.insert_api_key(key)
    assert saved.id is not None and saved.scopes == ("links:read",) and saved.name == "ci"
    assert await any_store.api_key_by_prefix(key.prefix) == saved
    await any_store.touch_api_key(saved.id, NOW)
    touched = await any_store.api_key_by_prefix(key.prefix)
    assert touched is not None and touched.last_used_at == NOW
    assert await any_store.revoke_api_key(key.prefix)
    assert not await any_store.revoke_api_key("missing")
    assert [k.revoked for k in await any_store.list_api_keys()] == [True]


async def test_users_and_domains(any_store: Store) -> None:
    assert await any_store.count_users() == 0
    await any_store.insert_user("admin", "scrypt$x", "owner")
    with pytest.raises(Conflict):
        await any_store.insert_user("admin", "scrypt$y", "viewer")
    assert await any_store.count_users() == 1
    await any_store.upsert_domain(Domain("go.example", "https://a.example/"))
    await any_store.upsert_domain(Domain("go.example", None))
    assert await any_store.get_domain("go.example") == Domain("go.example", None)
    assert await any_store.list_domains() == [Domain("go.example", None)]


async def test_nodes_writing_at_once_count_each_visitor_once(any_store: Store) -> None:
    """Several processes flush overlapping batches at the same moment (as nodes behind a load
    balancer do): every hit is stored once, a visitor seen by two of them is one unique, and
    their rollup upserts do not deadlock. Uniques are checked on PostgreSQL: a SQLite
    database serves one node, whose writer tells first visits from its day sketches
    (ADR 0029), so processes writing at once each count a visitor they share."""
    saved = await any_store.insert_link(link("busy"))
    lid = saved.id or 0
    hour = int(NOW.timestamp())
    writers = [create_store(any_store.url) for _ in range(4)]
    for writer in writers:
        await writer.open()
    try:
        batches = [
            [hit(lid, hour + n, f"v{(n + w) % 30}") for n in range(200)]
            + [hit(lid, hour + 7200 + n, f"late{n}") for n in range(w)]
            for w in range(len(writers))
        ]
        for _ in range(3):
            await asyncio.gather(*(w.write_hits(b) for w, b in zip(writers, batches, strict=True)))
    finally:
        for writer in writers:
            await writer.close()
    assert await any_store.count_hits(lid) == 3 * sum(len(b) for b in batches)
    rollups = await any_store.rollups([lid], hour, hour + 3 * 3600)
    by_hour = {r.hour - hour: (r.hits, r.uniques) for r in rollups}
    if any_store.url.startswith("postgresql"):
        assert by_hour == {0: (3 * 800, 30), 7200: (3 * 6, 3)}
    else:
        assert {h: hits for h, (hits, _) in by_hour.items()} == {0: 3 * 800, 7200: 3 * 6}


async def test_user_by_name(any_store: Store) -> None:
    assert await any_store.user_by_name("admin") is None
    user_id = await any_store.insert_user("admin", "scrypt$x", "owner")
    await any_store.insert_user("viewer", "scrypt$y", "viewer")
    admin = await any_store.user_by_name("admin")
    assert admin is not None and admin.created_at is not None
    assert admin == User(user_id, "admin", "scrypt$x", "owner", created_at=admin.created_at)
    assert admin.is_admin and not admin.disabled
    found = await any_store.user_by_name("viewer")
    assert found is not None and not found.is_admin and found.password_hash == "scrypt$y"
    assert await any_store.user_by_name("Admin") is None  # names are exact
