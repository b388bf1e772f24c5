"""Imported links on both engines: codes kept, conflicts left alone, historical clicks in stats."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from firstmark.domain import imports
from firstmark.domain.links import LinkPolicy
from firstmark.services.imports import import_links
from firstmark.store import Store

FIXTURES = Path(__file__).parent.parent / "fixtures" / "import"
DAY = datetime(2026, 11, 30, tzinfo=UTC)


async def test_dub_export_lands_with_codes_utm_tags_expiry_and_dated_clicks(
    any_store: Store,
) -> None:
    rows = imports.parse("dub", (FIXTURES / "dub.csv").read_bytes())
    seen: list[tuple[int, int]] = []
    outcome = await import_links(
        any_store, LinkPolicy(), rows, clicks_on=DAY, progress=lambda d, t: seen.append((d, t))
    )
    assert outcome.imported == ["launch", "pricing"] and outcome.clicks == 922
    assert seen == [(1, 2), (2, 2)]
    launch = await any_store.link_by_code("", "launch")
    assert launch is not None and launch.id is not None
    assert launch.destination == "https://acme.example/launch?plan=pro"
    assert (launch.utm_source, launch.utm_medium, launch.utm_campaign) == ("x", "social", "launch")
    assert launch.tags == ("launch", "social")
    assert launch.expires_at == datetime(2032, 1, 1, tzinfo=UTC)
    assert await any_store.human_hit_count(launch.id) == 910
    day_start = DAY.timestamp()
    series = await any_store.rollups([launch.id], day_start, day_start + 86400)
    assert sum(r.hits for r in series) == 910
    assert await any_store.count_hits(launch.id) == 0  # a total, not invented hit rows


async def test_a_taken_code_is_a_conflict_and_the_existing_link_is_untouched(
    any_store: Store,
) -> None:
    rows = imports.parse("kutt", (FIXTURES / "kutt.json").read_bytes())
    await import_links(any_store, LinkPolicy(), rows[:1], clicks_on=DAY)
    before = await any_store.link_by_code("", "promo")
    outcome = await import_links(any_store, LinkPolicy(), rows, clicks_on=DAY)
    assert outcome.imported == ["about"]
    assert [(c.row, c.column) for c in outcome.conflicts] == [(1, "code")]
    after = await any_store.link_by_code("", "promo")
    assert after == before and after is not None and after.id is not None
    assert await any_store.human_hit_count(after.id) == 55  # counted once, not twice


async def test_a_row_the_link_rules_refuse_is_an_error_and_the_rest_import(
    any_store: Store,
) -> None:
    data = (
        b"Link,Long URL,Clicks\nbit.ly/ok,https://a.example/,1\nbit.ly/api,https://b.example/,2\n"
    )
    data += b"bit.ly/bad,javascript:alert(1),3\n"
    outcome = await import_links(any_store, LinkPolicy(), imports.parse("bitly", data))
    assert outcome.imported == ["ok"]
    assert [(e.row, e.column) for e in outcome.errors] == [(3, "code"), (4, "destination")]


async def test_a_click_limit_carried_over_counts_the_visits_already_made(
    any_store: Store,
) -> None:
    rows = imports.parse("shlink", (FIXTURES / "shlink.json").read_bytes())
    await import_links(any_store, LinkPolicy(), rows, clicks_on=DAY)
    link = await any_store.link_by_code("", "12C18")
    assert link is not None and link.id is not None and link.max_hits == 500
    assert await any_store.human_hit_count(link.id) == 328  # what max_hits is checked against
