"""The dashboard's Channels page: links, scans, calls and site visits side by side by channel,
with spend and the KPIs, and the operator's channel rules and referrer exclusions.

The table is `GET /api/v1/reports/channel-groups` (services/reports.py); the forms take the
same fields as `POST /api/v1/channels/rules` and go through the same checks.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import channels
from firstmark.domain.roles import ADMIN, VIEWER
from firstmark.errors import InvalidField
from firstmark.services import channels as channels_service
from firstmark.services import reports as reports_service
from firstmark.web.dashboard.reports import Params
from firstmark.web.dashboard.views import Ctx, page

RULE_FIELDS = {"source": "Source", "medium": "Medium", "campaign": "Campaign",
               "referrer": "Referrer host"}  # fmt: skip
MATCH_LABELS = {"equals": "is", "contains": "contains", "ends_with": "is or ends with"}
assert tuple(RULE_FIELDS) == channels.RULE_FIELDS
assert tuple(MATCH_LABELS) == channels.RULE_MATCHES


async def _page(
    ctx: Ctx, status: int = 200, values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    params = Params(ctx)
    found = await reports_service.table(ctx.store, ("channel",), params.window, params.currency)
    rules = await ctx.store.list_channel_rules()
    currencies = sorted({*found.others, *([found.currency] if found.currency else [])})
    return ctx.render(
        "channels.html",
        status,
        rows=found.rows,
        total=found.total(),
        currency=found.currency,
        currencies=currencies,
        others=found.others,
        dates=params.dates,
        errors={**params.errors, **(errors or {})},
        values=values or {},
        channel_rules=[r for r in rules if r.action == "channel"],
        exclusions=[r for r in rules if r.action == "exclude"],
        channels=channels.CHANNELS,
        rule_fields=RULE_FIELDS,
        matches=MATCH_LABELS,
        peak=max((r.visitors for r in found.rows), default=0),
    )


async def channels_page(ctx: Ctx) -> Response:
    return await _page(ctx)


async def add_rule(ctx: Ctx) -> Response:
    action = "exclude" if ctx.value("action") == "exclude" else "channel"
    names = ("field", "match", "value", "channel") if action == "channel" else ("value",)
    data: dict[str, Any] = {"action": action}
    data.update({n: ctx.value(n) for n in names if ctx.value(n).strip()})
    try:
        saved = await channels_service.create_rule(ctx.store, data)
    except InvalidField as exc:
        prefix = "rule" if action == "channel" else "exclude"
        field = f"{prefix}_{exc.field if exc.field in names else 'value'}"
        values = {f"{prefix}_{n}": ctx.value(n) for n in names}
        return await _page(ctx, 422, values, {field: exc.message})
    ctx.runtime.event_writer.rules.invalidate()
    if saved.action == "exclude":
        message = f"Referrer {saved.value} excluded."
    else:
        message = f"Rule added: {saved.field} {saved.value} → {saved.channel}."
    return ctx.redirect("/dashboard/channels", flash={"message": message})


async def delete_rule(ctx: Ctx) -> Response:
    rule_id = int(ctx.request.path_params["rule_id"])
    if not await ctx.store.delete_channel_rule(rule_id):
        return ctx.redirect("/dashboard/channels", flash={"error": f"No rule #{rule_id}."})
    ctx.runtime.event_writer.rules.invalidate()
    return ctx.redirect("/dashboard/channels", flash={"message": f"Rule #{rule_id} removed."})


routes = [
    Route("/dashboard/channels", page(channels_page, role=VIEWER), methods=["GET"]),
    Route("/dashboard/channels/rules", page(add_rule, role=ADMIN), methods=["POST"]),
    Route(
        "/dashboard/channels/rules/{rule_id:int}/delete",
        page(delete_rule, role=ADMIN),
        methods=["POST"],
    ),
]
