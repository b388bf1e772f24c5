"""The dashboard's budget page: response curves per channel and a suggested reallocation of
the same daily budget, or why there is none. Built by firstmark.services.budget, like GET
/api/v1/reports/budget. Advice only: the page changes nothing."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import attribution, budget
from firstmark.domain.roles import VIEWER
from firstmark.services import budget as budget_service
from firstmark.web.dashboard import curvechart, ranges
from firstmark.web.dashboard.reports import MODEL_LABELS, Params
from firstmark.web.dashboard.views import Ctx, page

METRICS = {"revenue": "Revenue", "conversions": "Conversions"}


async def budget_page(ctx: Ctx) -> Response:
    params = Params(ctx)
    query = ctx.request.query_params
    model = query.get("model", budget_service.DEFAULT_MODEL)
    if model not in attribution.MODELS:
        model = budget_service.DEFAULT_MODEL
    metric = query.get("metric", "revenue")
    if metric not in METRICS:
        metric = "revenue"
    plan = await budget_service.plan(
        ctx.store, params.window, params.currency, model, metric, [], ctx.runtime.workers
    )
    days = {d.name: d.days for d in plan.data}
    charts = {
        a.name: curvechart.response(
            days[a.name].spends, days[a.name].outcomes, a.fit.curve,
            current=a.current, suggested=a.suggested,
            title=f"{a.name}: daily {metric} against daily spend, the fitted curve, "
            f"today's spend {a.current:,.2f} and the suggested {a.suggested:,.2f}",
        )
        for a in (plan.suggestion.channels if plan.suggestion else [])
    }  # fmt: skip
    return ctx.render(
        "budget.html",
        plan=plan,
        charts=charts,
        models={m: MODEL_LABELS.get(m, m) for m in attribution.MODELS},
        metrics=METRICS,
        rules={
            "days": budget.MIN_DAYS, "levels": budget.MIN_LEVELS, "cv": budget.MIN_CV,
            "recent": budget.RECENT_DAYS, "draws": budget.DRAWS,
        },
        currency=plan.currency,
        currencies=sorted({*plan.others, *([plan.currency] if plan.currency else [])}),
        dates=params.dates,
        errors=params.errors,
        ranges=ranges.choices(ctx, params.dates),
        carry=ranges.carried(params.dates),
    )  # fmt: skip


routes = [Route("/dashboard/budget", page(budget_page, role=VIEWER), methods=["GET"])]
