"""Dashboard Forwarding: is every destination delivering, and how well will it match?
Per destination: last success, error rate over the last day, and match-quality hints such
as "38 % of meta events had no fbc" over the last week; the outbox queue; dead rows with
their reason and a replay button each."""

from __future__ import annotations

import time

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import forwarding
from firstmark.domain.roles import ADMIN, VIEWER
from firstmark.web.dashboard.destinations import LABELS
from firstmark.web.dashboard.views import Ctx, page

HEALTH_S = 86400.0  # error rate and last success over the last day
QUALITY_S = 7 * 86400.0  # match-quality hints over the last week
SHOWN = 50  # queue and dead rows listed


async def forwarding_page(ctx: Ctx) -> Response:
    now = time.time()
    store = ctx.store
    health = forwarding.health_by_destination(await store.delivery_health(now - HEALTH_S))
    empty = forwarding.health([])
    rows = []
    names: dict[int, str] = {}
    for dest in await store.list_destinations():
        assert dest.id is not None
        names[dest.id] = dest.name
        days = forwarding.quality(
            dest.platform, await store.delivery_quality(dest.id, now - QUALITY_S, now + 1)
        )
        rows.append(
            {
                "dest": dest,
                "label": LABELS.get(dest.platform, dest.platform),
                "health": health.get(dest.id, empty),
                "hints": forwarding.hints(dest.platform, days),
                "counts": await store.outbox_counts(dest.id),
            }
        )
    queue = [
        r
        for status in ("sending", "retry", "pending")
        for r in await store.list_outbox(status, limit=SHOWN)
    ][:SHOWN]
    dead = await store.list_outbox("dead", limit=SHOWN)
    return ctx.render("forwarding.html", rows=rows, queue=queue, dead=dead, names=names, now=now)


async def replay_row(ctx: Ctx) -> Response:
    outbox_id: int = ctx.request.path_params["outbox_id"]
    replayed = await ctx.store.replay_outbox(outbox_ids=[outbox_id])
    flash = (
        {"message": f"Outbox row {outbox_id} queued again."}
        if replayed
        else {"error": f"Outbox row {outbox_id} is not dead; nothing to replay."}
    )
    return ctx.redirect("/dashboard/forwarding", flash=flash)


routes = [
    Route("/dashboard/forwarding", page(forwarding_page, role=VIEWER), methods=["GET"]),
    Route(
        "/dashboard/forwarding/outbox/{outbox_id:int}/replay",
        page(replay_row, role=ADMIN),
        methods=["POST"],
    ),
]
