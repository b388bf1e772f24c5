"""Dashboard CRM deals page: upload a deal export (all or nothing, every bad row shown next to
the upload field) and see which rows matched a click, visit, call or conversion, and why."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain.deals import ACTION_SOURCES, MAX_FILE_BYTES, PRESETS
from firstmark.domain.deals import parse_csv as parse_deals
from firstmark.domain.roles import EDITOR, VIEWER
from firstmark.errors import InvalidField, InvalidFile, RowError
from firstmark.services import deals as deals_service
from firstmark.web.dashboard.uploads import export_file, refusal, row_errors
from firstmark.web.dashboard.views import Ctx, actor, page

PRESET_LABELS = {
    "hubspot": "HubSpot deals",
    "salesforce": "Salesforce opportunities",
    "pipedrive": "Pipedrive deals",
    "generic": "Generic (deal_id, stage, ts, value, currency, … or a mapping)",
}
assert set(PRESET_LABELS) == set(PRESETS)
ACTION_LABELS = {
    "system_generated": "From the CRM (Meta: system_generated)",
    "physical_store": "In a shop or in person (Meta: physical_store)",
}
assert set(ACTION_LABELS) == set(ACTION_SOURCES)
FIELDS = ("preset", "mapping", "currency", "action_source", "dry_run")
SHOWN_ROWS = 50  # report rows shown after an import; the rest are counted


async def _page(
    ctx: Ctx,
    status: int = 200,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    bad_rows: list[RowError] | None = None,
) -> Response:
    return ctx.render(
        "deals.html",
        status,
        presets=PRESET_LABELS,
        action_sources=ACTION_LABELS,
        values=values or {"preset": "hubspot", "action_source": "system_generated"},
        errors=errors or {},
        **row_errors(bad_rows),
        result=(ctx.flash or {}).get("deals"),
        max_mb=MAX_FILE_BYTES // 2**20,
    )


async def deals_page(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":
        return await _page(ctx)
    values = {name: ctx.value(name).strip() for name in FIELDS}
    try:
        data = await export_file(ctx, MAX_FILE_BYTES, "choose the deal export to upload")
        found = parse_deals(
            data,
            values["preset"] or "generic",
            values["mapping"] or None,
            currency=values["currency"] or None,
        )
        report = await deals_service.import_deals(
            ctx.store,
            ctx.runtime.signer,
            found,
            actor=actor(ctx),
            preset=values["preset"] or "generic",
            action_source=values["action_source"] or "system_generated",
            dry_run=bool(values["dry_run"]),
            exempt=ctx.runtime.settings.privacy_mode == "exempt",
        )
    except (InvalidField, InvalidFile) as exc:
        return await _page(ctx, 422, values=values, **refusal(exc, FIELDS))
    if report["imported"]:
        ctx.runtime.goals.invalidate()  # the deal goals may be new
    rows = report["rows"]
    report["rows"] = rows[:SHOWN_ROWS]
    report["more_rows"] = max(0, len(rows) - SHOWN_ROWS)
    return ctx.redirect("/dashboard/deals", flash={"deals": report})


routes = [
    Route(
        "/dashboard/deals",
        page(deals_page, role=VIEWER, post=EDITOR, upload=MAX_FILE_BYTES),
        methods=["GET", "POST"],
    ),
]
