"""The REST API under /api/v1: one module per resource, every route listed here.

`routes` is what app.py mounts, in matching order. Every route is declared with
`contract.op(method, path, handler, scope=..., query=..., body=..., replies=...)`, which
checks the key's scope, the query and the body before the handler runs and describes the
operation in /api/v1/openapi.json (openapi.py); tests/web/test_openapi.py fails on a route
declared any other way.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from firstmark.web.api import (
    audit,
    budget,
    calls,
    channels,
    conversions,
    costs,
    customers,
    deals,
    destinations,
    forwarding,
    funnels,
    goals,
    linkcheck,
    links,
    numbers,
    openapi,
    privacy,
    qr,
    reports,
    sites,
    variants,
    web,
    webhooks,
)

routes: list[BaseRoute] = [
    *links.routes,
    *variants.routes,
    *sites.routes,
    *goals.routes,
    *conversions.routes,
    *deals.routes,
    *costs.routes,
    *customers.routes,  # before reports: /reports/{name} would take their paths
    *budget.routes,
    *reports.routes,
    *qr.routes,
    *linkcheck.routes,
    *destinations.routes,
    *numbers.routes,
    *calls.routes,
    *channels.routes,
    *web.routes,
    *funnels.routes,
    *privacy.routes,
    *audit.routes,
    *forwarding.routes,
    *webhooks.routes,
    *openapi.routes,
]
