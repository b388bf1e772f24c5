"""The REST API under /api/v1: one module per resource, every route listed here.

`routes` is what app.py mounts, in matching order; a route table or an OpenAPI document
walks the same list. Handlers parse, call services or the store, and answer JSON; auth.py
holds the bearer-key check they all start with.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from firstmark.web.api import (
    calls,
    channels,
    conversions,
    costs,
    destinations,
    forwarding,
    funnels,
    goals,
    linkcheck,
    links,
    numbers,
    qr,
    reports,
    sites,
    web,
)

routes: list[BaseRoute] = [
    *links.routes,
    *sites.routes,
    *goals.routes,
    *conversions.routes,
    *costs.routes,
    *reports.routes,
    *qr.routes,
    *linkcheck.routes,
    *destinations.routes,
    *numbers.routes,
    *calls.routes,
    *channels.routes,
    *web.routes,
    *funnels.routes,
    *forwarding.routes,
]
