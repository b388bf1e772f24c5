"""Dashboard ad-cost page: upload an export (all or nothing, every bad row shown next to the
upload field), see what an import did, and the imported totals."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain.costs import MAX_FILE_BYTES, PRESETS
from firstmark.domain.roles import EDITOR, VIEWER
from firstmark.errors import InvalidField, InvalidFile, RowError
from firstmark.services import costs as costs_service
from firstmark.services.reports import Window
from firstmark.web.dashboard.uploads import export_file, refusal, row_errors
from firstmark.web.dashboard.views import Ctx, actor, date_range, page

PRESET_LABELS = {
    "auto": "Recognise from the columns",
    "google_ads": "Google Ads",
    "meta": "Meta Ads Manager",
    "linkedin": "LinkedIn Campaign Manager",
    "tiktok": "TikTok Ads Manager",
    "microsoft": "Microsoft Advertising",
    "generic": "Generic (date, source, medium, campaign, spend, currency, …)",
}
assert set(PRESET_LABELS) == {"auto", *PRESETS}
FIELDS = ("preset", "source", "medium", "currency")
SHOWN_PERIODS = 10  # channels listed after an import; the rest are counted


async def _page(
    ctx: Ctx,
    status: int = 200,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    bad_rows: list[RowError] | None = None,
) -> Response:
    span, dates, range_errors = date_range(ctx)
    window = Window(span)
    totals = await ctx.store.cost_totals(
        window.first_day, window.last_day, ["source", "medium", "campaign"]
    )
    spend: dict[str, Any] = {}
    for row in totals:
        spend[row.currency] = spend.get(row.currency, 0) + row.spend
    return ctx.render(
        "costs.html",
        status,
        presets=PRESET_LABELS,
        values=values or {"preset": "auto"},
        errors=errors or {},
        **row_errors(bad_rows),
        totals=totals,
        spend=sorted(spend.items()),
        dates=dates,
        range_errors=range_errors,
        result=(ctx.flash or {}).get("import"),
        max_mb=MAX_FILE_BYTES // 2**20,
    )


async def costs_page(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        return await _page(ctx)
    values = {name: ctx.value(name).strip() for name in FIELDS}
    try:
        data = await export_file(ctx, MAX_FILE_BYTES, "choose the export file to upload")
        summary = await costs_service.import_file(
            ctx.store,
            data,
            values["preset"] or "auto",
            source=values["source"] or None,
            medium=values["medium"] or None,
            currency=values["currency"] or None,
            workers=ctx.runtime.workers,
            actor=actor(ctx),
        )
    except (InvalidField, InvalidFile) as exc:
        return await _page(ctx, 422, values=values, **refusal(exc, FIELDS))
    periods = summary["periods"]
    summary["periods"] = periods[:SHOWN_PERIODS]
    summary["more_periods"] = max(0, len(periods) - SHOWN_PERIODS)
    return ctx.redirect("/dashboard/costs", flash={"import": summary})


routes = [
    Route(
        "/dashboard/costs",
        page(costs_page, role=VIEWER, post=EDITOR, upload=MAX_FILE_BYTES),
        methods=["GET", "POST"],
    ),
]
