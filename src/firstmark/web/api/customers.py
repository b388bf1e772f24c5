"""REST API for the customers report: new customers, CAC and LTV by acquisition channel and
cohort (docs/customers.md); JSON or CSV."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from firstmark.domain import customers
from firstmark.domain.money import currency as check_currency
from firstmark.domain.schema import Param, Str
from firstmark.services import customers as customers_service
from firstmark.services.reports import Window
from firstmark.web.api.contract import RANGE as SPAN
from firstmark.web.api.contract import Reply, op
from firstmark.web.api.reports import CURRENCY, FORMAT, _csv, _params
from firstmark.web.http import json_response
from firstmark.web.runtime import runtime

# What a customer is, in every answer: consent decides what can be counted.
COUNTED = (
    "A customer is a conversion identity kept under consent: the visitor id and your "
    "customer_id (analytics consent) or the hashed e-mail (ad user-data consent); conversions "
    "sharing any of them are one customer. Conversions with none are unidentified: left out "
    "of customers (unidentified=exclude) or each counted as a new customer "
    "(unidentified=separate)."
)


def body(report: customers_service.Report) -> dict[str, Any]:
    found, group = report.found, report.group_by
    return {
        "currency": report.currency,
        "other_currencies": report.others,
        "group_by": group,
        "horizons_days": list(customers.HORIZONS),
        "identity": {
            "counted": COUNTED,
            "unidentified": report.unidentified,
            "unidentified_conversions": found.unidentified,
            "unidentified_revenue": str(found.unidentified_revenue.quantize(customers.CENT)),
        },
        "rows": [{group: r.key, **customers.row_json(r)} for r in found.rows],
        "totals": customers.row_json(found.total),
        "cohorts": [
            {"cohort": month, group: r.key, **customers.row_json(r)} for month, r in found.cohorts
        ],
    }


async def customers_report(request: Request) -> Response:
    params = _params(request, {"from", "to", "currency", "format", "group_by", "unidentified"})
    group = customers_service.parse_group(params.get("group_by"))
    unidentified = customers_service.parse_unidentified(params.get("unidentified"))
    window = Window.of(params)
    rt = runtime(request)
    report = await customers_service.report(
        rt.store, window, check_currency(params.get("currency")), group, unidentified, rt.workers
    )
    if params.get("format") == "csv":
        found = report.found
        return _csv(customers.to_csv(found.rows, found.total, found.cohorts), "customers")
    return json_response({**window.json, **body(report)})


routes = [
    op("GET", "/api/v1/reports/customers", customers_report, scope="reports:read",
       summary="New customers, CAC and LTV by acquisition channel and cohort",
       query=(*SPAN, CURRENCY, FORMAT,
              Param("group_by", Str(enum=customers.GROUPS)),
              Param("unidentified", Str(enum=customers.UNIDENTIFIED),
                    description="exclude (default) or count each as its own customer")),
       replies=[Reply(200, "The report (CSV with format=csv)",
                      media=("application/json", "text/csv"))]),
]  # fmt: skip
