"""What the API and the CLI both do with QR codes: render, placements, export, events, scans.

Like links_service.py for links: domain rules first, then the store, so the two front doors agree.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from firstmark.config import Settings
from firstmark.domain import placements, schedules, stats, times
from firstmark.domain.dimensions import SCAN_BREAKDOWNS
from firstmark.domain.links import Link, generate_code, short_url
from firstmark.domain.placements import Draft, Placement
from firstmark.domain.qr import QrOptions
from firstmark.domain.qrrender import Logo, Rendered, render
from firstmark.domain.schedules import Schedule
from firstmark.errors import InvalidField, NotFound, SlugTaken
from firstmark.services import calls as calls_service
from firstmark.services import links as links_service
from firstmark.services.workers import Workers, run
from firstmark.store import Store

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


async def logo_for(store: Store, options: QrOptions) -> Logo | None:
    if options.logo is None:
        return None
    logo = await store.get_logo(options.logo)
    if logo is None:
        raise InvalidField("logo", f"no logo with id {options.logo}; upload it first")
    return logo


async def render_link(
    store: Store,
    settings: Settings,
    link: Link,
    options: QrOptions,
    workers: Workers | None = None,
) -> Rendered:
    """The link's scan URL (/q/{code}) as a QR code: scans are told apart from clicks.
    Rendering (and decoding a logo) is CPU work: it runs on `workers`."""
    logo = await logo_for(store, options)
    return await run(workers, render, short_url(link, settings.base_url, scan=True), options, logo)


async def create_placements(store: Store, parent: Link, drafts: Sequence[Draft]) -> list[Placement]:
    """Store placements all together; generated codes that collide are drawn again."""
    if parent.id is None:
        raise NotFound("the link has no id")
    if parent.kind == "qr" and parent.placement is not None:
        if await store.get_placement(parent.id) is not None:
            raise InvalidField("link", "a placement cannot have placements of its own")
    now = times.now()
    items = [(placements.placement_link(parent, d, now), d.placement) for d in drafts]
    for _ in range(links_service.CODE_ATTEMPTS):
        try:
            return await store.insert_placements(items)
        except SlugTaken as exc:
            taken = exc.message
            regenerated = False
            new_items: list[tuple[Link, Placement]] = []
            for (link, p), draft in zip(items, drafts, strict=True):
                if draft.code is None and f"'{link.code}'" in taken:
                    link = replace(link, code=generate_code())
                    regenerated = True
                new_items.append((link, p))
            if not regenerated:
                raise
            items = new_items
    raise SlugTaken(parent.domain, items[0][0].code)


async def follow_parent(store: Store, parent: Link) -> list[Link]:
    """After a link changed: its placements take its destination, UTM and rules."""
    return await store.sync_placements(parent)


async def family(store: Store, link: Link) -> list[Link]:
    """A link and (as code stubs) its placements' links: what to drop from the link cache when
    the link's event schedule changes, since every placement follows it."""
    assert link.id is not None
    found = await store.list_placements(link.id)
    return [link, *(Link(destination="", code=p.code, domain=p.domain) for p in found)]


async def get_placement(store: Store, placement_id: int) -> tuple[Placement, Link]:
    placement = await store.get_placement(placement_id)
    link = await store.get_link(placement_id) if placement else None
    if placement is None or link is None:
        raise NotFound(f"no placement with id {placement_id}")
    return placement, link


async def export_zip(
    store: Store,
    settings: Settings,
    parent: Link,
    options: QrOptions,
    workers: Workers | None = None,
) -> tuple[bytes, int]:
    """A ZIP of one file per placement in the chosen format plus manifest.csv."""
    assert parent.id is not None
    found = await store.list_placements(parent.id)
    if not found:
        raise InvalidField("link", "the link has no placements to export")
    logo = await logo_for(store, options)
    taken: set[str] = set()
    rows = [
        (p, _placement_url(p, settings), placements.file_name(p, options.format, taken))
        for p in found
    ]
    # Seconds of CPU for a large batch: off the event loop, so redirects keep flowing.
    body = await run(workers, _zip, rows, options, logo)
    return body, len(found)


def _zip(
    rows: Sequence[tuple[Placement, str, str]], options: QrOptions, logo: Logo | None
) -> bytes:
    # PNG is compressed already; deflating it again costs time and saves nothing.
    method = zipfile.ZIP_STORED if options.format == "png" else zipfile.ZIP_DEFLATED
    out = io.BytesIO()
    checks: list[str] = []
    with zipfile.ZipFile(out, "w", method) as archive:
        for _, url, name in rows:
            rendered = render(url, options, logo)
            archive.writestr(name, rendered.body)
            checks.append(rendered.check.header())
        manifest = placements.manifest(rows, checks)
        archive.writestr("manifest.csv", manifest, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _placement_url(p: Placement, settings: Settings) -> str:
    stub = Link(destination="", code=p.code, domain=p.domain)
    return short_url(stub, settings.base_url, scan=True)


def placement_json(p: Placement, settings: Settings) -> dict[str, Any]:
    return placements.to_json(p, _placement_url(p, settings))


# --- event mode -------------------------------------------------------------------------------


async def set_event(store: Store, settings: Settings, link: Link, data: object) -> Schedule:
    assert link.id is not None
    schedule = schedules.parse(data, link.id, times.now(), settings.allowed_destination_hosts)
    await store.set_schedule(schedule)
    return schedule


async def get_event(store: Store, link: Link) -> Schedule:
    """The link's event; once past its retirement, the summary is computed and kept."""
    assert link.id is not None
    schedule = await store.get_schedule(link.id)
    if schedule is None:
        raise NotFound(f"link {link.id} has no event")
    now = times.now()
    if schedule.phase(now) == "retired" and schedule.summary is None:
        schedule = replace(schedule, summary=await event_summary(store, link, schedule))
        await store.set_schedule(schedule)
    return schedule


async def retire_event(store: Store, link: Link, fallback_url: str | None) -> Schedule:
    """End the event now: its codes lead to the fallback, and the scans are summed up."""
    assert link.id is not None
    schedule = await store.get_schedule(link.id)
    if schedule is None:
        raise NotFound(f"link {link.id} has no event")
    now = times.now()
    fallback = fallback_url or schedule.fallback_url
    if fallback is None:
        raise InvalidField("fallback_url", "say where retired codes lead", code="required")
    retire_at = now if schedule.retire_at is None else min(now, schedule.retire_at)
    schedule = replace(
        schedule, retire_at=retire_at, fallback_url=fallback, ends_at=min(schedule.ends_at, now)
    )
    if schedule.ends_at <= schedule.starts_at:
        schedule = replace(schedule, ends_at=schedule.starts_at)
    schedule = replace(schedule, summary=await event_summary(store, link, schedule))
    await store.set_schedule(schedule)
    return schedule


async def event_summary(store: Store, link: Link, schedule: Schedule) -> dict[str, Any]:
    assert link.id is not None
    found = await store.list_placements(link.id)
    ids = [link.id, *(p.link_id for p in found if p.link_id is not None)]
    end = (schedule.retire_at or times.now()).timestamp() + 1
    rows = await store.rollups(ids, 0, end)
    hourly = [(r.hour, r.hits - r.bot_hits, r.uniques) for r in rows if r.kind == "scan"]
    totals = await store.scan_totals(ids, 0, end)
    per_placement = [
        (p.name, *totals.get(p.link_id or 0, (0, 0))) for p in found if p.link_id is not None
    ]
    return schedules.summarise(schedule, hourly, per_placement)


# --- scan analytics ---------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    """The heatmap's time zone: people scan by their local clock, not by UTC."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidField(
            "tz", f"unknown time zone {name!r}; use a name like Europe/Oslo"
        ) from None


def cost_per_scan(cost: Decimal | None, uniques: int) -> str | None:
    """Print cost over unique scans (or over conversions); null when there is nothing to divide
    by."""
    if cost is None or uniques == 0:
        return None
    return str((cost / uniques).quantize(Decimal("0.0001")))


async def scan_report(
    store: Store,
    settings: Settings,
    link_ids: Sequence[int],
    found: Sequence[Placement],
    params: dict[str, str],
) -> dict[str, Any]:
    """Scans of some links (a link and its placements, or one placement): totals, where, on
    what device, when, and cost per scan; calls to numbers printed beside the codes (static
    numbers bound to these links) and cost per qualified call."""
    zone = _zone(params.pop("tz", "") or "UTC")
    span = stats.parse_range(params, datetime.now(UTC))
    start, end = span.start.timestamp(), span.end.timestamp()
    rows = [r for r in await store.rollups(link_ids, start, end) if r.kind == "scan"]
    totals = await store.scan_totals(link_ids, start, end)
    scans = sum(t[0] for t in totals.values())
    uniques = sum(t[1] for t in totals.values())
    heatmap = [[0] * 24 for _ in WEEKDAYS]
    for r in rows:
        when = datetime.fromtimestamp(r.hour, zone)
        heatmap[when.weekday()][when.hour] += r.hits - r.bot_hits
    breakdowns: dict[str, Any] = {}
    for name, column in SCAN_BREAKDOWNS.items():
        top = await store.scan_breakdown(link_ids, column, start, end, 20)
        breakdowns[name] = [{"value": v, "scans": s, "unique_scans": u} for v, s, u in top]
    # Conversions credited to these codes (by their click token or last touch), any currency.
    wanted = set(link_ids)
    converted: dict[int, int] = {}
    for row in await store.conversion_totals(("link",), start, end):
        if row.key[0] in wanted:
            converted[row.key[0]] = converted.get(row.key[0], 0) + row.conversions
    conversions = sum(converted.values())
    calls = await calls_service.by_link(store, link_ids, start, end)
    all_calls = calls_service.added(calls)
    currencies = {p.currency for p in found if p.print_cost is not None}
    cost = None
    if len(currencies) == 1:
        cost = sum((p.print_cost for p in found if p.print_cost is not None), Decimal(0))
    per_placement = []
    for p in found:
        s, u = totals.get(p.link_id or 0, (0, 0))
        placed = calls.get(p.link_id or 0, calls_service.NO_CALLS)
        per_placement.append(
            {
                **placement_json(p, settings),
                "scans": s,
                "unique_scans": u,
                "cost_per_scan": cost_per_scan(p.print_cost, u),
                "conversions": converted.get(p.link_id or 0, 0),
                "cost_per_conversion": cost_per_scan(
                    p.print_cost, converted.get(p.link_id or 0, 0)
                ),
                **calls_service.fields(placed),
                "cost_per_call": cost_per_scan(p.print_cost, placed.qualified),
            }
        )
    return {
        "from": span.start.isoformat().replace("+00:00", "Z"),
        "to": span.end.isoformat().replace("+00:00", "Z"),
        "interval": span.interval,
        "scans": scans,
        "unique_scans": uniques,
        "print_cost": None if cost is None else str(cost),
        "currency": currencies.pop() if len(currencies) == 1 else None,
        "cost_per_scan": cost_per_scan(cost, uniques),
        "conversions": conversions,
        "cost_per_conversion": cost_per_scan(cost, conversions),
        **calls_service.fields(all_calls),
        "cost_per_call": cost_per_scan(cost, all_calls.qualified),
        "series": [
            {"t": p["t"], "scans": p["humans"], "unique_scans": p["uniques"]}
            for p in stats.series(rows, span)
        ],
        "heatmap": {"timezone": str(zone), "weekdays": list(WEEKDAYS), "hours": heatmap},
        "breakdowns": breakdowns,
        "placements": per_placement,
    }
