"""The Alerts page: the alerts still standing, and those of the last 30 days that resolved."""

from __future__ import annotations

import time

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import summary
from firstmark.domain.roles import VIEWER
from firstmark.web.dashboard.views import Ctx, page

RECENT_S = 30 * 86_400.0
SHOWN = 200


async def alerts_page(ctx: Ctx) -> Response:
    settings = ctx.settings
    standing = await ctx.store.list_alerts(open_only=True, limit=SHOWN)
    recent = await ctx.store.list_alerts(since=time.time() - RECENT_S, limit=SHOWN)
    schedule = settings.report_schedule
    return ctx.render(
        "alerts.html",
        standing=standing,
        resolved=[a for a in recent if a.resolved_at is not None],
        checking=settings.alert_interval_s > 0,
        interval_min=round(settings.alert_interval_s / 60, 1),
        dead_letters=settings.alert_dead_letters,
        kpi_hour=settings.alert_kpi_hour,
        kpi_change=round(settings.alert_kpi_min_change * 100),
        kpi_p=f"{settings.alert_kpi_p:g}",
        schedule=schedule,
        period=summary.PERIODS.get(schedule),
        report_hour=settings.report_hour,
        mailing=bool(settings.smtp_url and settings.report_to),
        recipients=len(settings.report_to),
    )


routes = [Route("/dashboard/alerts", page(alerts_page, role=VIEWER), methods=["GET"])]
