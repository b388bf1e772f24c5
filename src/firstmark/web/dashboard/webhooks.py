"""Dashboard Webhooks: endpoints that receive signed events, each with its last deliveries,
a "send test event" button, secret rotation, replay of dead messages and removal. A secret is
shown once, in the page that created or rotated it (never in a cookie or a redirect)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import webhooks
from firstmark.domain.roles import ADMIN
from firstmark.domain.webhooks import Endpoint
from firstmark.errors import InvalidField
from firstmark.services import audit
from firstmark.services import webhooks as service
from firstmark.web.dashboard.views import Ctx, actor, page

PAGE = "/dashboard/webhooks"
SHOWN = 10  # deliveries per endpoint


async def _render(
    ctx: Ctx, status: int = 200, *, secret: str | None = None, secret_for: int | None = None,
    values: dict[str, Any] | None = None, error: str | None = None,
) -> Response:  # fmt: skip
    rows = []
    for ep in await ctx.store.list_webhooks():
        assert ep.id is not None
        rows.append(
            {
                "ep": ep,
                "counts": await ctx.store.webhook_counts(ep.id),
                "deliveries": [
                    webhooks.delivery_json(d)
                    for d in await ctx.store.list_webhook_deliveries(ep.id, SHOWN)
                ],
            }
        )
    return ctx.render(
        "webhooks.html", status, rows=rows, events=webhooks.EVENTS, modes=webhooks.CLICK_MODES,
        secret=secret, secret_for=secret_for, values=values or {}, error=error,
    )  # fmt: skip


async def _endpoint(ctx: Ctx) -> Endpoint:
    return await service.found(ctx.store, ctx.request.path_params["webhook_id"])


async def webhooks_page(ctx: Ctx) -> Response:
    return await _render(ctx)


async def create_webhook(ctx: Ctx) -> Response:
    assert ctx.form is not None
    events = [str(e) for e in ctx.form.getlist("events")]
    body: dict[str, Any] = {
        "url": ctx.value("url").strip(),
        "events": events,
        "description": ctx.value("description").strip(),
        "click_mode": ctx.value("click_mode") or "aggregate",
    }
    every = ctx.value("sample_every").strip()
    values = {**body, "sample_every": every}
    try:
        if every:
            if not every.isdigit():
                raise InvalidField("sample_every", "sample_every must be a whole number")
            body["sample_every"] = int(every)
        saved, secret = await service.create(
            ctx.store, ctx.runtime.webhook_sealer, body,
            allow_private=ctx.settings.webhook_allow_private,
        )  # fmt: skip
    except InvalidField as exc:
        return await _render(ctx, 422, values=values, error=f"{exc.field}: {exc.message}")
    await audit.record(ctx.store, actor(ctx), "create", "webhook", saved.id)
    return await _render(ctx, 201, secret=secret, secret_for=saved.id)


async def rotate_webhook(ctx: Ctx) -> Response:
    ep = await _endpoint(ctx)
    saved, secret = await service.rotate(ctx.store, ctx.runtime.webhook_sealer, ep)
    await audit.record(ctx.store, actor(ctx), "rotate", "webhook", saved.id)
    return await _render(ctx, secret=secret, secret_for=saved.id)


async def test_webhook(ctx: Ctx) -> Response:
    """Queue a test event and deliver what is due now, so the answer shows at once."""
    ep = await _endpoint(ctx)
    await service.send_test(ctx.store, ep)
    await ctx.runtime.webhook_sender.run_once()
    latest = await ctx.store.list_webhook_deliveries(ep.id or 0, 1)
    if latest and latest[0].event_type == webhooks.TEST_EVENT and latest[0].status == "sent":
        flash = {"message": f"Test event delivered (HTTP {latest[0].http_status})."}
    elif latest and latest[0].event_type == webhooks.TEST_EVENT:
        flash = {"error": f"Test event not delivered: {latest[0].error}"}
    else:
        flash = {"message": "Test event queued."}
    return ctx.redirect(PAGE, flash=flash)


async def replay_webhook(ctx: Ctx) -> Response:
    ep = await _endpoint(ctx)
    replayed = await ctx.store.replay_webhooks(ep.id)
    return ctx.redirect(PAGE, flash={"message": f"{replayed} dead messages queued again."})


async def remove_webhook(ctx: Ctx) -> Response:
    ep = await _endpoint(ctx)
    await service.remove(ctx.store, ep)
    await audit.record(ctx.store, actor(ctx), "delete", "webhook", ep.id)
    return ctx.redirect(PAGE, flash={"message": f"Webhook {ep.id} removed."})


ONE = PAGE + "/{webhook_id:int}"
routes = [
    Route(PAGE, page(webhooks_page, role=ADMIN), methods=["GET"]),
    Route(PAGE, page(create_webhook, role=ADMIN), methods=["POST"]),
    Route(ONE + "/test", page(test_webhook, role=ADMIN), methods=["POST"]),
    Route(ONE + "/rotate", page(rotate_webhook, role=ADMIN), methods=["POST"]),
    Route(ONE + "/replay", page(replay_webhook, role=ADMIN), methods=["POST"]),
    Route(ONE + "/remove", page(remove_webhook, role=ADMIN), methods=["POST"]),
]
