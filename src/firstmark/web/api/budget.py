"""REST API for budget suggestions: response curves, marginal returns and a reallocation of
the same daily budget (docs/budget.md). Advice only: nothing is changed."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import attribution, budget
from firstmark.domain.budget import Advice, Interval
from firstmark.domain.money import currency as check_currency
from firstmark.domain.schema import Param, Str
from firstmark.services import budget as budget_service
from firstmark.services.reports import Window
from firstmark.web.api.contract import RANGE as SPAN
from firstmark.web.api.contract import op
from firstmark.web.api.reports import CURRENCY
from firstmark.web.http import json_response, only_known
from firstmark.web.runtime import runtime

METHOD = {
    "curve": "y = base + a * (1 - exp(-spend / b)), least squares per channel",
    "allocation": "greedy: each slice of the same daily total to the highest marginal return, "
    "within each channel's observed daily spend range",
    "intervals": f"90 % bootstrap over days ({budget.DRAWS} draws)",
    "current_spend": f"mean daily spend of the last {budget.RECENT_DAYS} days",
    "minimum_variation": {
        "days_with_spend": budget.MIN_DAYS,
        "distinct_spend_levels": budget.MIN_LEVELS,
        "coefficient_of_variation": budget.MIN_CV,
    },
}


def _round(x: float) -> float:
    return round(x, 4)


def _interval(i: Interval) -> list[float]:
    return [_round(i.low), _round(i.high)]


def _advice(a: Advice) -> dict[str, Any]:
    curve = a.fit.curve
    return {
        "channel": a.name,
        "curve": {
            "a": _round(curve.a), "b": _round(curve.b), "base": _round(curve.base),
            "r2": _round(a.fit.r2), "shape": a.fit.shape,
        },
        "current_daily_spend": _round(a.current),
        "observed_daily_spend": _interval(a.observed),
        "marginal_return": _round(a.marginal),
        "marginal_return_interval": _interval(a.marginal_interval),
        "suggested_daily_spend": _round(a.suggested),
        "suggested_daily_spend_interval": _interval(a.suggested_interval),
        "change": _round(a.suggested - a.current),
    }  # fmt: skip


def body(plan: budget_service.Plan) -> dict[str, Any]:
    s = plan.suggestion
    suggestion = None
    if s is not None:
        gain = s.suggested_return - s.current_return
        suggestion = {
            "daily_budget": _round(s.total),
            "expected_daily_return": _round(s.current_return),
            "suggested_daily_return": _round(s.suggested_return),
            "daily_gain": _round(gain),
            "daily_gain_interval": _interval(s.gain_interval),
            "gain_percent": _round(100 * gain / s.current_return) if s.current_return else None,
            "channels": [_advice(a) for a in s.channels],
            "applied": False,
        }
    return {
        "currency": plan.currency,
        "other_currencies": plan.others,
        "model": plan.model,
        "metric": plan.metric,
        "method": METHOD,
        "data": {
            "days": plan.days,
            "channels": [
                {
                    "channel": d.name,
                    "spend": _round(d.spend),
                    plan.metric: _round(d.outcome),
                    "days_with_spend": d.variation.days,
                    "distinct_spend_levels": d.variation.levels,
                    "coefficient_of_variation": _round(d.variation.cv),
                    "enough_variation": d.variation.enough,
                    "reason": d.variation.reason,
                }
                for d in plan.data
            ],
        },
        "suggestion": suggestion,
        "reasons": plan.reasons,
    }


async def budget_report(request: Request) -> Response:
    params = only_known(
        request.query_params, {"from", "to", "currency", "model", "metric", "channels"}
    )
    model = budget_service.parse_model(params.get("model"))
    metric = budget_service.parse_metric(params.get("metric"))
    only = budget_service.parse_channels(params.get("channels"))
    window = Window.of(params)
    rt = runtime(request)
    plan = await budget_service.plan(
        rt.store, window, check_currency(params.get("currency")), model, metric, only, rt.workers
    )
    return json_response({**window.json, **body(plan)})


routes = [
    op("GET", "/api/v1/reports/budget", budget_report, scope="reports:read",
       summary="Response curves per channel and a suggested reallocation of the daily budget",
       query=(*SPAN, CURRENCY,
              Param("model", Str(max_length=32),
                    description=f"credits of: {', '.join(attribution.MODELS)}"),
              Param("metric", Str(enum=budget_service.METRICS)),
              Param("channels", Str(max_length=1000),
                    description="channels to include, comma-separated (default: all with spend)"))),
]  # fmt: skip
