"""REST API for reports: overview, tables by channel/campaign/…, attribution; JSON or CSV."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import attribution, reports, stats
from firstmark.domain.money import currency as check_currency
from firstmark.domain.times import iso
from firstmark.errors import InvalidField, NotFound
from firstmark.store.base import COST_GROUPS, Store, epoch_day
from firstmark.web.auth import require
from firstmark.web.http import json_response

RANGE = {"from", "to", "currency", "format"}


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _params(request: Request, allowed: set[str]) -> dict[str, str]:
    params = dict(request.query_params)
    unknown = set(params) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidField(name, f"unknown parameter {name!r}", code="unknown_field")
    if params.get("format", "json") not in ("json", "csv"):
        raise InvalidField("format", "format must be json or csv")
    return params


class Window:
    """The date range of a report, as the stats API reads it (`from`/`to`, 30 days by default)."""

    def __init__(self, params: dict[str, str]) -> None:
        span = stats.parse_range({**params, "interval": "day"}, datetime.now(UTC))
        self.start, self.end = span.start.timestamp(), span.end.timestamp()
        self.first_day = epoch_day(span.start.date())
        self.last_day = epoch_day(span.end.date()) - 1  # `end` is midnight, exclusive
        self.json = {"from": iso(span.start), "to": iso(span.end)}


async def _table(
    store: Store, dims: tuple[str, ...], window: Window, requested: str | None
) -> tuple[list[reports.ReportRow], str | None, list[str]]:
    traffic = await store.traffic_totals(dims, window.start, window.end)
    conversions = await store.conversion_totals(dims, window.start, window.end)
    cost_dims = [d for d in dims if d in COST_GROUPS]
    costs = await store.cost_totals(window.first_day, window.last_day, cost_dims)
    currency = reports.pick_currency(requested, costs, conversions)
    rows = reports.table(dims, traffic, conversions, costs, currency)
    return rows, currency, reports.other_currencies(currency, costs, conversions)


def _csv(body: str, name: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="firstmark-{name}.csv"'},
    )


async def overview(request: Request) -> Response:
    await require(request, "reports:read")
    params = _params(request, RANGE)
    window = Window(params)
    requested = check_currency(params.get("currency"))
    days, currency, others = await _table(_store(request), ("day",), window, requested)
    totals = reports.total(days)
    if params.get("format") == "csv":
        return _csv(reports.to_csv(days, ("day",)), "overview")
    return json_response(
        {
            **window.json,
            "currency": currency,
            "other_currencies": others,
            "totals": reports.to_json(totals, ()),
            "series": [reports.to_json(r, ("day",)) for r in sorted(days, key=lambda r: r.key)],
        }
    )


async def table(request: Request) -> Response:
    await require(request, "reports:read")
    name = request.path_params["name"]
    if name == "table":
        params = _params(request, RANGE | {"group_by"})
        dims = reports.parse_dimensions(params.get("group_by", ""))
    elif name in reports.TABLES:
        params = _params(request, RANGE)
        dims = reports.TABLES[name]
    else:
        raise NotFound(f"no report {name!r}; try {', '.join(reports.TABLES)} or table")
    window = Window(params)
    rows, currency, others = await _table(
        _store(request), dims, window, check_currency(params.get("currency"))
    )
    if params.get("format") == "csv":
        return _csv(reports.to_csv(rows, dims), name)
    return json_response(
        {
            **window.json,
            "group_by": list(dims),
            "currency": currency,
            "other_currencies": others,
            "rows": [reports.to_json(r, dims) for r in rows],
            "totals": reports.to_json(reports.total(rows), ()),
        }
    )


async def attribution_report(request: Request) -> Response:
    await require(request, "reports:read")
    params = _params(request, RANGE | {"group_by", "half_life_days"})
    dims = reports.parse_dimensions(params.get("group_by", "source,medium"))
    half_life = _half_life(params.get("half_life_days"))
    window = Window(params)
    store = _store(request)
    journeys = await store.conversion_journeys(window.start, window.end)
    conversions = await store.conversion_totals((), window.start, window.end)
    currency = reports.pick_currency(check_currency(params.get("currency")), [], conversions)
    entries = reports.model_comparison(journeys, dims, currency, half_life_days=half_life)
    if params.get("format") == "csv":
        return _csv(reports.attribution_csv(entries, dims), "attribution")
    return json_response(
        {
            **window.json,
            "group_by": list(dims),
            "currency": currency,
            "models": list(attribution.MODELS),
            "half_life_days": half_life,
            "rows": entries,
        }
    )


def _half_life(raw: str | None) -> float:
    if raw is None:
        return attribution.DEFAULT_HALF_LIFE_DAYS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3650:
        raise InvalidField("half_life_days", "half_life_days must be a number of days, 0-3650")
    return value


routes = [
    Route("/api/v1/reports/overview", overview, methods=["GET"]),
    Route("/api/v1/reports/attribution", attribution_report, methods=["GET"]),
    Route("/api/v1/reports/{name}", table, methods=["GET"]),
]
