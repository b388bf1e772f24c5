"""The Store contract for QR codes: logos, placements, schedules, scans and health."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from firstmark.domain.hits import Hit
from firstmark.domain.linkcheck import Health
from firstmark.domain.links import Link
from firstmark.domain.placements import Draft, Placement, placement_link
from firstmark.domain.qrrender import Logo
from firstmark.domain.schedules import Schedule
from firstmark.errors import Conflict, SlugTaken
from firstmark.store.protocol import Store

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def scan(
    link_id: int, ts: float, visitor: str, *, device: str = "mobile", bot: bool = False
) -> Hit:
    return Hit(
        link_id=link_id, ts=ts, kind="scan", visitor_day_hash=visitor, country="NO", region=None,
        city="Oslo", device_type=device, os="iOS", browser="Mobile Safari", referrer_host=None,
        is_bot=bot, bot_reason="crawler:x" if bot else None, lang="nb",
    )  # fmt: skip


async def _parent(store: Store, code: str = "parent") -> Link:
    return await store.insert_link(
        Link(
            destination="https://a.example/",
            code=code,
            utm_source="print",
            tags=("fair",),
            created_at=NOW,
            updated_at=NOW,
        )
    )


def _draft(parent: Link, name: str, code: str | None = None, **fields: object) -> Draft:
    return Draft(Placement(parent_id=parent.id or 0, name=name, **fields), code)  # type: ignore[arg-type]


async def test_logos_are_stored_once(any_store: Store) -> None:
    logo = Logo("image/png", b"\x89PNG fake", 10, 12, "ab" * 32)
    first = await any_store.insert_logo(logo)
    second = await any_store.insert_logo(logo)
    assert first.id is not None and first.id == second.id
    assert replace(first, id=None) == logo
    assert await any_store.get_logo(first.id) == first
    assert await any_store.get_logo(first.id + 1) is None


async def test_placements_round_trip(any_store: Store) -> None:
    parent = await _parent(any_store)
    drafts = [
        _draft(
            parent,
            "Poster A",
            "posta",
            venue="Oslo S",
            medium="poster",
            quantity=20,
            print_cost=Decimal("400.50"),
            currency="NOK",
            starts_on=date(2026, 3, 1),
            ends_on=date(2026, 3, 31),
        ),
        _draft(parent, "Flyer"),
    ]
    items = [(placement_link(parent, d, NOW), d.placement) for d in drafts]
    saved = await any_store.insert_placements(items)
    assert [p.name for p in saved] == ["Poster A", "Flyer"]
    first = saved[0]
    assert (first.code, first.venue, first.quantity) == ("posta", "Oslo S", 20)
    assert first.print_cost == Decimal("400.50") and first.starts_on == date(2026, 3, 1)
    assert first.utm_content == "poster-a"
    assert await any_store.list_placements(parent.id or 0) == saved
    assert await any_store.get_placement(first.link_id or 0) == first
    assert await any_store.get_placement(parent.id or 0) is None
    child = await any_store.link_by_code("", "posta")
    assert child is not None and child.kind == "qr" and child.placement == "Poster A"
    assert child.tags == ("fair",)


async def test_placement_batches_are_all_or_nothing(any_store: Store) -> None:
    parent = await _parent(any_store)
    await any_store.insert_link(Link(destination="https://b.example/", code="taken"))
    drafts = [_draft(parent, "one", "free1"), _draft(parent, "two", "taken")]
    with pytest.raises(SlugTaken) as caught:
        await any_store.insert_placements(
            [(placement_link(parent, d, NOW), d.placement) for d in drafts]
        )
    assert "'taken'" in caught.value.message
    assert await any_store.list_placements(parent.id or 0) == []
    assert await any_store.link_by_code("", "free1") is None
    ok = _draft(parent, "one", "free1")
    await any_store.insert_placements([(placement_link(parent, ok, NOW), ok.placement)])
    same_name = _draft(parent, "one", "free2")
    with pytest.raises(Conflict):
        await any_store.insert_placements(
            [(placement_link(parent, same_name, NOW), same_name.placement)]
        )


async def test_sync_placements_copies_shared_fields(any_store: Store) -> None:
    parent = await _parent(any_store)
    d = _draft(parent, "stand", "stand1")
    await any_store.insert_placements([(placement_link(parent, d, NOW), d.placement)])
    changed = await any_store.update_link(
        replace(
            parent,
            destination="https://new.example/",
            utm_campaign="spring",
            tags=("fair", "oslo"),
            version=parent.version + 1,
        )
    )
    children = await any_store.sync_placements(changed)
    assert len(children) == 1
    child = children[0]
    assert (child.destination, child.utm_campaign, child.utm_content) == (
        "https://new.example/",
        "spring",
        "stand",
    )
    assert child.tags == ("fair", "oslo") and child.version == 2
    assert await any_store.sync_placements(await _parent(any_store, "lonely")) == []


async def test_schedules(any_store: Store) -> None:
    parent = await _parent(any_store)
    d = _draft(parent, "gate", "gate1")
    placed = await any_store.insert_placements([(placement_link(parent, d, NOW), d.placement)])
    schedule = Schedule(
        link_id=parent.id or 0,
        starts_at=NOW,
        ends_at=datetime(2026, 11, 26, tzinfo=UTC),
        during_url="https://a.example/live",
        updated_at=NOW,
    )
    assert await any_store.get_schedule(parent.id or 0) is None
    await any_store.set_schedule(schedule)
    assert await any_store.get_schedule(parent.id or 0) == schedule
    assert await any_store.schedule_for_link(placed[0].link_id or 0) == schedule
    retired = replace(schedule, retire_at=NOW, fallback_url="https://a.example/", summary={"x": 1})
    await any_store.set_schedule(retired)
    assert await any_store.schedule_for_link(parent.id or 0) == retired
    assert await any_store.delete_schedule(parent.id or 0) is True
    assert await any_store.delete_schedule(parent.id or 0) is False
    assert await any_store.schedule_for_link(placed[0].link_id or 0) is None


async def test_scan_totals_and_breakdowns(any_store: Store) -> None:
    a = await _parent(any_store, "a")
    b = await _parent(any_store, "b")
    ts = NOW.timestamp()
    click = scan(a.id or 0, ts, "v9")._replace(kind="click")
    await any_store.write_hits(
        [
            scan(a.id or 0, ts, "v1"),
            scan(a.id or 0, ts + 60, "v1"),
            scan(a.id or 0, ts + 120, "v2", device="desktop"),
            scan(a.id or 0, ts + 180, "bot", bot=True),
            scan(b.id or 0, ts, "v3"),
            click,
        ]
    )
    ids = [a.id or 0, b.id or 0]
    totals = await any_store.scan_totals(ids, ts - 3600, ts + 3600)
    assert totals == {a.id: (3, 2), b.id: (1, 1)}
    devices = await any_store.scan_breakdown(ids, "device_type", ts - 86400, ts + 86400, 10)
    assert devices == [("mobile", 3, 2), ("desktop", 1, 1)]
    assert await any_store.scan_breakdown(ids, "city", ts - 86400, ts + 86400, 1) == [
        ("Oslo", 4, 3)
    ]
    assert await any_store.scan_totals([], 0, ts) == {}


async def test_health_round_trip(any_store: Store) -> None:
    link = await _parent(any_store)
    first = Health(
        link.id or 0, "https://a.example/", NOW, False, 404, "HTTP 404", "https://a.example/"
    )
    await any_store.record_health([first])
    assert await any_store.health_for([link.id or 0]) == {link.id: first}
    later = replace(
        first, ok=True, status=200, error=None, checked_at=datetime(2026, 11, 26, tzinfo=UTC)
    )
    await any_store.record_health([later])
    assert await any_store.health_for([link.id or 0, 999]) == {link.id: later}
    assert await any_store.health_for([]) == {}
