"""Operations endpoints: /healthz (the process answers), /readyz (the database is reachable
and migrated) and /metrics (Prometheus text: queues, caches, DNI leases, the outbox)."""

from __future__ import annotations

import hmac
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from firstmark import __version__
from firstmark.errors import StoreUnavailable
from firstmark.web.runtime import runtime

log = logging.getLogger("firstmark")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok", "version": __version__})


async def readyz(request: Request) -> Response:
    rt = runtime(request)
    try:
        await rt.store.ping()
        pending = await rt.store.pending_migrations()
    except StoreUnavailable as exc:
        # Anyone may ask: the answer never names the database's host, user or path (the
        # log does, for the operator).
        log.warning("readyz: %s", exc.message)
        return JSONResponse(
            {"status": "unavailable", "store": "cannot use the database"}, status_code=503
        )
    if pending:
        return JSONResponse({"status": "unavailable", "pending_migrations": pending}, 503)
    return JSONResponse({"status": "ready", "hit_queue": rt.writer.depth})


def _metrics_allowed(request: Request, token: str) -> bool:
    if not token:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


async def metrics(request: Request) -> Response:
    rt = runtime(request)
    if not _metrics_allowed(request, rt.settings.metrics_token):
        return JSONResponse(
            {"error": {"code": "unauthorized", "message": "send the metrics token as a Bearer"}},
            status_code=401,
            headers={"www-authenticate": "Bearer"},
        )
    writer, cache, events, dni = rt.writer, rt.cache, rt.event_writer, rt.dni
    lag, workers = rt.loop_lag, rt.workers
    lines = [
        "# TYPE firstmark_hits_written_total counter",
        f"firstmark_hits_written_total {writer.written}",
        "# TYPE firstmark_hit_queue_depth gauge",
        f"firstmark_hit_queue_depth {writer.depth}",
        "# TYPE firstmark_hit_flushes_total counter",
        f"firstmark_hit_flushes_total {writer.flushes}",
        "# TYPE firstmark_hit_flush_failures_total counter",
        f"firstmark_hit_flush_failures_total {writer.failures}",
        "# TYPE firstmark_hit_flush_seconds gauge",
        f"firstmark_hit_flush_seconds {writer.last_flush_s:.6f}",
        "# TYPE firstmark_link_cache_hits_total counter",
        f"firstmark_link_cache_hits_total {cache.hits}",
        "# TYPE firstmark_link_cache_misses_total counter",
        f"firstmark_link_cache_misses_total {cache.misses}",
        "# TYPE firstmark_events_written_total counter",
        f"firstmark_events_written_total {events.written}",
        "# TYPE firstmark_event_queue_depth gauge",
        f"firstmark_event_queue_depth {events.depth}",
        "# TYPE firstmark_event_flush_failures_total counter",
        f"firstmark_event_flush_failures_total {events.failures}",
        "# TYPE firstmark_web_conversions_total counter",
        f"firstmark_web_conversions_total {events.conversions}",
        "# TYPE firstmark_link_cache_stale_total counter",
        f"firstmark_link_cache_stale_total {cache.stale}",
        "# TYPE firstmark_rows_rejected_total counter",
        f'firstmark_rows_rejected_total{{writer="hits"}} {writer.rejected}',
        f'firstmark_rows_rejected_total{{writer="events"}} {events.rejected}',
        "# TYPE firstmark_link_cache_entries gauge",
        f"firstmark_link_cache_entries {cache.entries}",
        "# TYPE firstmark_link_cache_bytes gauge",
        f"firstmark_link_cache_bytes {cache.bytes}",
        "# HELP firstmark_event_loop_lag_seconds How late the event loop ran, last minute.",
        "# TYPE firstmark_event_loop_lag_seconds gauge",
        f'firstmark_event_loop_lag_seconds{{quantile="0.99"}} {lag.p99():.6f}',
        f'firstmark_event_loop_lag_seconds{{quantile="1"}} {lag.max():.6f}',
        "# TYPE firstmark_cpu_jobs gauge",
        f'firstmark_cpu_jobs{{state="running"}} {workers.running}',
        f'firstmark_cpu_jobs{{state="waiting"}} {workers.waiting}',
        "# TYPE firstmark_cpu_jobs_refused_total counter",
        f"firstmark_cpu_jobs_refused_total {workers.refused}",
    ]
    lines += [
        "# TYPE firstmark_dni_leases_total counter",
        f'firstmark_dni_leases_total{{result="taken"}} {dni.taken}',
        f'firstmark_dni_leases_total{{result="renewed"}} {dni.renewed}',
        f'firstmark_dni_leases_total{{result="exhausted"}} {dni.exhausted}',
    ]
    try:
        counts = await rt.store.outbox_counts()
        dests = await rt.store.list_destinations()
    except StoreUnavailable:
        counts, dests = {}, []
    # 1 while a destination's credentials are refused and its conversions wait (alert on it).
    lines.append("# TYPE firstmark_destination_needs_reauth gauge")
    lines += [
        f'firstmark_destination_needs_reauth{{destination="{d.id}",platform="{d.platform}"}} '
        f"{int(d.auth_status == 'needs_reauth')}"
        for d in dests
    ]
    lines.append("# TYPE firstmark_outbox_rows gauge")
    lines += [f'firstmark_outbox_rows{{status="{k}"}} {v}' for k, v in counts.items()]
    c = rt.forwarder.counters
    lines += [
        "# TYPE firstmark_forward_requests_total counter",
        f"firstmark_forward_requests_total {c.requests}",
        "# TYPE firstmark_forward_events_total counter",
        f'firstmark_forward_events_total{{result="sent"}} {c.sent}',
        f'firstmark_forward_events_total{{result="retry"}} {c.retried}',
        f'firstmark_forward_events_total{{result="dead"}} {c.dead}',
    ]
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


routes = [
    Route("/healthz", healthz),
    Route("/readyz", readyz),
    Route("/metrics", metrics),
]
