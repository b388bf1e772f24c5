"""The dashboard's Web section: a site's visitors, pages, channels, goals and funnels.

`/dashboard/web` lists the sites; `/dashboard/web/{site_id}` is one site's overview, built by
the same code as `GET /api/v1/web/{report}` (services/web.py) so the page and the API cannot
disagree. Filters live in the query string, as in Plausible: a row's link adds its filter, a
chip removes it, and every panel and funnel is narrowed by all of them at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import web
from firstmark.domain.roles import VIEWER
from firstmark.errors import InvalidField, NotFound
from firstmark.services import funnels as funnels_service
from firstmark.services import web as web_service
from firstmark.web.dashboard import charts
from firstmark.web.dashboard.views import Ctx, date_range, page

ROWS = 10  # rows per panel: the page stays small whatever the site's traffic
FUNNELS = 5  # funnels reported on the page (each is one query over the range's events)
# The filters the page takes, with their label (domain/web.py FILTERS, in that order).
FILTER_LABELS = {
    "channel": "Channel",
    "source": "Source",
    "medium": "Medium",
    "campaign": "Campaign",
    "country": "Country",
    "device": "Device",
    "page": "Page",
    "goal": "Goal",
}
assert tuple(FILTER_LABELS) == tuple(web.FILTERS)


@dataclass(frozen=True)
class Panel:
    report: str  # a report of GET /api/v1/web/{report}
    title: str
    column: str  # the heading of its key column
    filter: str  # the filter a click on a row applies


PANELS = (
    Panel("channels", "Channels", "Channel", "channel"),
    Panel("sources", "Sources", "Source", "source"),
    Panel("pages", "Top pages", "Page", "page"),
    Panel("campaigns", "Campaigns", "Campaign", "campaign"),
    Panel("countries", "Countries", "Country", "country"),
    Panel("devices", "Devices", "Device", "device"),
)
GOALS = Panel("goals", "Goals", "Goal", "goal")


class Query:
    """The page's date range and filters; a bad value is shown next to its field (or above
    the panels) and left out, never a failed page."""

    def __init__(self, ctx: Ctx, site_id: int) -> None:
        self.span, self.dates, self.errors = date_range(ctx)
        self.site_id = site_id
        given = ctx.request.query_params
        self.filters: dict[str, str] = {}
        for name in FILTER_LABELS:
            value = given.get(name)
            if value is None:
                continue
            try:
                web.parse("overview", {"site": str(site_id), name: value})
            except InvalidField as exc:
                self.errors[name] = exc.message
            else:
                self.filters[name] = value

    def params(self, **extra: str) -> dict[str, str]:
        """What services/web.py reads: the site, the range by day, the filters."""
        return {"site": str(self.site_id), **self.dates, "interval": "day", **self.filters,
                **extra}  # fmt: skip

    def href(self, **changes: str | None) -> str:
        """This page with filters set (a value) or removed (None)."""
        kept = {**self.dates, **self.filters}
        for name, value in changes.items():
            if value is None:
                kept.pop(name, None)
            else:
                kept[name] = value
        return f"/dashboard/web/{self.site_id}?{urlencode(kept)}"


def _site_id(ctx: Ctx) -> int:
    raw = ctx.request.path_params["site_id"]
    if not raw.isdigit() or not 0 < int(raw) < 2**62:
        raise NotFound(f"There is no site {raw!r}.")
    return int(raw)


async def sites_page(ctx: Ctx) -> Response:
    """Choose a site."""
    return ctx.render("web_sites.html", sites=await ctx.store.list_sites())


def _label(key: str, interval: str) -> str:
    return key[:10] if interval == "day" else f"{key[:10]} {key[11:13]}:00"


def _filter_href(query: Query, panel: Panel, key: Any) -> str | None:
    """The page narrowed to a row's key; rows without a key cannot be filtered on."""
    return None if key in (None, "") else query.href(**{panel.filter: str(key)})


async def _panel(ctx: Ctx, query: Query, panel: Panel, now: datetime) -> dict[str, Any]:
    answer, _ = await web_service.report(
        ctx.store, panel.report, query.params(limit=str(ROWS)), now
    )
    rows = answer["rows"]
    return {
        "panel": panel,
        "rows": [{**r, "href": _filter_href(query, panel, r["key"])} for r in rows],
        "peak": max((r["visitors"] for r in rows), default=0),
        "total": answer["total_rows"],
    }


async def _funnels(ctx: Ctx, query: Query, now: datetime) -> list[dict[str, Any]]:
    found = (await ctx.store.list_funnels(query.site_id))[:FUNNELS]
    out = []
    for funnel in found:
        assert funnel.id is not None
        report = await funnels_service.report(ctx.store, funnel.id, query.params(), now)
        steps = report["report"]
        out.append(
            {
                "name": funnel.name,
                "within": "one visit" if funnel.within == "visit" else f"{funnel.days} days",
                "steps": steps,
                "peak": max((s["visitors"] for s in steps), default=0),
            }
        )
    return out


async def site_page(ctx: Ctx) -> Response:
    site_id = _site_id(ctx)
    site = next((s for s in await ctx.store.list_sites() if s.id == site_id), None)
    if site is None:
        raise NotFound(f"There is no site {site_id}.")
    query = Query(ctx, site_id)
    now = datetime.now(UTC)
    overview, _ = await web_service.report(ctx.store, "overview", query.params(), now)
    realtime, _ = await web_service.report(ctx.store, "realtime", query.params(), now)
    series = overview["series"]
    labels = [_label(p["key"], overview["interval"]) for p in series]
    chart = charts.time_series(
        labels,
        [
            charts.Line("visitors", "uniques", [p["visitors"] for p in series]),
            charts.Line("visits", "clicks", [p["visits"] for p in series]),
        ],
        title="Visitors and visits per day",
    )
    return ctx.render(
        "web.html",
        site=site,
        dates=query.dates,
        errors=query.errors,
        filters=[
            {"name": n, "label": FILTER_LABELS[n], "value": v, "remove": query.href(**{n: None})}
            for n, v in query.filters.items()
        ],
        clear=query.href(**dict.fromkeys(query.filters)),
        totals=overview["totals"],
        realtime=realtime["visitors"],
        chart=chart,
        labels=labels,
        series=series,
        panels=[await _panel(ctx, query, p, now) for p in PANELS],
        goals=await _panel(ctx, query, GOALS, now),
        funnels=await _funnels(ctx, query, now),
        filter_labels=FILTER_LABELS,
    )


routes = [
    Route("/dashboard/web", page(sites_page, role=VIEWER), methods=["GET"]),
    Route("/dashboard/web/{site_id}", page(site_page, role=VIEWER), methods=["GET"]),
]
