"""The dashboard under /dashboard: pages, forms, charts, sessions; every route listed here.

`routes` is what app.py mounts, in matching order (the catch-all 404 page last); `setup`
builds what the dashboard keeps for the life of the app (templates, sessions, the login
throttle).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from firstmark.web.dashboard import (
    account,
    alerts,
    analytics,
    budget,
    channels,
    costs,
    customers,
    deals,
    destinations,
    eventmode,
    forwarding,
    goals,
    imports,
    keys,
    links,
    numbers,
    pages,
    paths,
    privacy,
    qr,
    reports,
    sites,
    sso,
    users,
    webhooks,
)
from firstmark.web.dashboard.pages import setup

__all__ = ["routes", "setup"]

routes: list[BaseRoute] = [
    *pages.routes,
    *sso.routes,
    *keys.routes,
    *account.routes,
    *links.routes,
    *eventmode.routes,
    *qr.routes,
    *reports.routes,
    *paths.routes,
    *customers.routes,
    *budget.routes,
    *costs.routes,
    *deals.routes,
    *goals.routes,
    *numbers.routes,
    *destinations.routes,
    *analytics.routes,
    *channels.routes,
    *privacy.routes,
    *forwarding.routes,
    *webhooks.routes,
    *imports.routes,
    *sites.routes,
    *users.routes,
    *alerts.routes,
    pages.fallback,
]
