"""create_app(settings): the composition root. It builds every part once into the runtime
(web/runtime.py), mounts the routes, maps errors to HTTP and runs the lifespan; the edge apps
(redirect, /n, /e) wrap the router."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from firstmark.config import Settings
from firstmark.domain import devices
from firstmark.domain.clicks import ClickSigner
from firstmark.errors import FirstmarkError
from firstmark.forward.tokens import TokenProvider, oauth_urls
from firstmark.forward.webhooks import WebhookSender
from firstmark.forward.worker import Forwarder
from firstmark.geo import GeoLookup
from firstmark.ingest.events import EventWriter, GoalCache
from firstmark.ingest.hits import HitWriter
from firstmark.sealing import Sealer
from firstmark.services import (
    alerts,
    checkpoints,
    credits,
    linkcheck,
    outbound,
    retention,
    rollups,
    summary,
    webhooks,
)
from firstmark.services.workers import Workers
from firstmark.store import Store, create_store
from firstmark.web import api, callhooks, dashboard, ops
from firstmark.web.collect import CollectApp, SiteCache
from firstmark.web.dni import DniApp, PoolCache
from firstmark.web.linkcache import LinkCache
from firstmark.web.looplag import LoopLag
from firstmark.web.pages import Pages
from firstmark.web.redirect import RedirectApp
from firstmark.web.runtime import Runtime

log = logging.getLogger("firstmark")


async def on_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FirstmarkError)
    headers = {"www-authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(exc.to_json(), status_code=exc.status, headers=headers)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(
        {"error": {"code": code, "message": exc.detail}},
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def on_crash(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(
        {"error": {"code": "internal_error", "message": "something went wrong on our side"}},
        status_code=500,
    )


def create_app(
    settings: Settings, store: Store | None = None, forward_client: httpx.AsyncClient | None = None
) -> Any:
    """The ASGI app. Pass an opened `store` to manage it yourself (tests); else the lifespan
    opens, migrates and closes one from FIRSTMARK_DATABASE_URL. `forward_client` is the HTTP
    client that speaks to ad platforms (tests pass one over a mock transport)."""
    own_store = store is None
    own_client = forward_client is None
    store = store or create_store(
        settings.database_url,
        timeout=settings.db_timeout,
        pool_size=settings.db_pool_size,
        startup_wait=settings.db_startup_wait,
    )
    geo = GeoLookup(settings.geoip_db)
    click_feed = webhooks.ClickFeed(store)  # link.clicked / qr.scanned webhooks
    writer = HitWriter(
        store,
        geo,
        capacity=settings.hit_buffer,
        batch=settings.hit_batch,
        flush_ms=settings.hit_flush_ms,
        feed=click_feed.observe,
    )
    signer = ClickSigner(settings.secret_key)
    goals = GoalCache(store)
    credentials_sealer = Sealer(settings.secret_key, "destination-credentials")
    client_sealer = Sealer(settings.secret_key, "outbox-client")
    event_writer = EventWriter(
        store,
        geo,
        signer,
        goals,
        token_param=settings.click_token_param,
        capacity=settings.hit_buffer,
        batch=settings.hit_batch,
        flush_ms=settings.hit_flush_ms,
        seal_client=client_sealer.seal,
    )
    sites = SiteCache(store, settings.link_cache_ttl)
    pools = PoolCache(store, settings.link_cache_ttl)
    # Every connection to an ad platform (or a destination's own endpoint_base) is checked
    # and pinned like a health check's (services/outbound.py).
    client = forward_client or outbound.guarded_client(
        settings.forward_timeout_s, allow_private=settings.destination_allow_private
    )
    forwarder = Forwarder(
        store,
        client,
        credentials=credentials_sealer,
        client_data=client_sealer,
        batch=settings.forward_batch,
        lease_s=settings.forward_lease_s,
        max_attempts=settings.forward_max_attempts,
        backoff_s=settings.forward_backoff_s,
        request_timeout_s=settings.forward_timeout_s,
        tokens=TokenProvider(client, oauth_urls(settings)),
    )
    webhook_sealer = Sealer(settings.secret_key, "webhook-secrets")
    # Webhook endpoints are user-chosen URLs: their own guarded client and allowance.
    webhook_client = forward_client or outbound.guarded_client(
        settings.forward_timeout_s, allow_private=settings.webhook_allow_private
    )
    webhook_sender = WebhookSender(
        store,
        webhook_client,
        webhook_sealer,
        lease_s=settings.forward_lease_s,
        max_attempts=settings.forward_max_attempts,
        backoff_s=settings.forward_backoff_s,
        request_timeout_s=settings.forward_timeout_s,
    )
    webhook_sender.feed = click_feed
    workers = Workers(settings.cpu_workers, settings.worker_queue)
    loop_lag = LoopLag()
    cache = LinkCache(
        store,
        token_param=settings.click_token_param,
        ttl=settings.link_cache_ttl,
        size=settings.link_cache_size,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if own_store:
            await store.open()
            await store.migrate()
        await store.watch_changes(cache.on_change)
        writer.start()
        event_writer.start()
        checker = None
        if own_store and settings.healthcheck_interval > 0:
            checker = asyncio.create_task(
                linkcheck.run_forever(
                    store,
                    interval=settings.healthcheck_interval,
                    timeout=settings.healthcheck_timeout,
                    allow_private=settings.healthcheck_allow_private,
                )
            )
        # Salts go 48 hours after their day starts on every node; the purge runs on one.
        timers = [asyncio.create_task(retention.run_salt_timer(store))]
        if own_store and settings.purge_enabled:
            timers.append(asyncio.create_task(retention.run_daily(store, settings)))
        if own_store and settings.rollup_refresh_s > 0:
            timers.append(
                asyncio.create_task(
                    rollups.run_forever(store, settings.rollup_refresh_s, settings.rollup_max_lag_s)
                )
            )
        if own_store:
            timers.append(
                asyncio.create_task(checkpoints.run_forever(store), name="firstmark-checkpoints")
            )
        if own_store and settings.credit_interval_s > 0:
            timers.append(
                asyncio.create_task(
                    credits.run_forever(store, settings.credit_interval_s),
                    name="firstmark-credits",
                )
            )
        # Alerts and summaries: checked on every node, run on one (an advisory lock, a claimed
        # period), so every node may have them on.
        if own_store and settings.alert_interval_s > 0:
            timers.append(
                asyncio.create_task(alerts.run_forever(store, settings), name="firstmark-alerts")
            )
        if own_store and settings.report_schedule != "off":
            timers.append(
                asyncio.create_task(summary.run_forever(store, settings), name="firstmark-summary")
            )
        if settings.forward_enabled and settings.privacy_mode != "exempt":
            forwarder.start(settings.forward_poll_s)
        if settings.forward_enabled:
            webhook_sender.start(settings.forward_poll_s)
        await workers.warm()
        devices.warm()
        loop_lag.start()
        try:
            yield
        finally:
            await loop_lag.stop()
            workers.close()
            await forwarder.stop()
            await webhook_sender.stop()
            if own_client:
                await client.aclose()
                await webhook_client.aclose()
            for task in [*timers, *([checker] if checker is not None else [])]:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await writer.stop()
            await event_writer.stop()
            geo.close()
            if own_store:
                await store.close()

    static = resources.files("firstmark.static")
    router = Starlette(
        routes=[
            *ops.routes,
            *api.routes,
            *dashboard.routes,
            *callhooks.routes,
            Mount("/static", StaticFiles(directory=str(static)), name="static"),
        ],
        exception_handlers={
            FirstmarkError: on_error,
            HTTPException: on_http_error,
            Exception: on_crash,
        },
        lifespan=lifespan,
    )
    collect = CollectApp(router, settings=settings, writer=event_writer, sites=sites)
    dni = DniApp(collect, settings=settings, store=store, sites=sites, pools=pools, signer=signer)
    router.state.runtime = Runtime(
        settings=settings,
        store=store,
        writer=writer,
        cache=cache,
        event_writer=event_writer,
        goals=goals,
        sites=sites,
        pools=pools,
        signer=signer,
        dashboard=dashboard.setup(settings),
        credentials_sealer=credentials_sealer,
        client_sealer=client_sealer,
        forwarder=forwarder,
        probe_forwarder=forwarder,
        dni=dni,
        collect=collect,
        workers=workers,
        loop_lag=loop_lag,
        webhook_sealer=webhook_sealer,
        webhook_sender=webhook_sender,
    )
    app = RedirectApp(
        dni,
        settings=settings,
        cache=cache,
        writer=writer,
        geo=geo,
        pages=Pages(),
        workers=workers,
    )
    app.state = router.state  # type: ignore[attr-defined]
    return app
