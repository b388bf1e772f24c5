"""The dashboard's Privacy page (consent by state, modelled totals, retention, and the erase
and export forms) and its Audit log page."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import audit, privacy
from firstmark.domain.roles import ADMIN
from firstmark.errors import FirstmarkError, InvalidField
from firstmark.services import audit as audit_service
from firstmark.services import privacy as privacy_service
from firstmark.web.dashboard.views import Ctx, actor, date_range, page

AUDIT_PAGE = 50


def retention_rows(summary: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """One row per data class: name, how long it is kept, the last purge and what it took."""
    rows = []
    for name, entry in summary.items():
        days = entry.get("days") or 0
        kept = f"{days} days" if days else "for ever"
        ran = entry.get("last_purge")
        when = datetime.fromtimestamp(ran, UTC).strftime("%Y-%m-%d %H:%M") if ran else "never"
        rows.append((name, kept, when, f"{entry.get('deleted') or 0:,}"))
    return rows


async def _privacy(
    ctx: Ctx, status: int = 200, errors: dict[str, str] | None = None, values: Any = None
) -> Response:
    span, dates, range_errors = date_range(ctx)
    last = span.end - timedelta(days=1)
    params = {"from": span.start.strftime("%Y-%m-%d"), "to": last.strftime("%Y-%m-%d")}
    report = await privacy_service.consent(ctx.store, ctx.settings, params)
    return ctx.render(
        "privacy.html",
        status,
        dates=dates,
        errors={**range_errors, **(errors or {})},
        report=report,
        retention=retention_rows(report["retention"]),
        kinds=privacy.KINDS,
        values=values or {"kind": "visitor_id"},
    )


async def privacy_page(ctx: Ctx) -> Response:
    return await _privacy(ctx)


async def privacy_request(ctx: Ctx) -> Response:
    """Erase (confirmed) or export for one identifier, from the page's form."""
    body = {"kind": ctx.value("kind"), "value": ctx.value("value")}
    action = ctx.value("action")
    values = {"kind": body["kind"]}
    try:
        if action == "erase":
            if ctx.value("confirm") != "on":
                raise InvalidField("confirm", "Tick the box to confirm: erasure cannot be undone.")
            answer = await privacy_service.erase(
                ctx.store, body, ctx.runtime.caller_key, actor(ctx)
            )
        elif action == "export":
            doc = await privacy_service.export(ctx.store, body, ctx.runtime.caller_key, actor(ctx))
            return Response(
                json.dumps(doc, indent=2, ensure_ascii=False),
                media_type="application/json",
                headers={
                    "content-disposition": 'attachment; filename="firstmark-export.json"',
                    "cache-control": "no-store",
                },
            )
        else:
            raise InvalidField("action", "choose erase or export")
    except FirstmarkError as exc:
        return await _privacy(ctx, 422, {exc.field or "value": exc.message}, values)
    done = sum(sum(c.values()) for c in answer["tables"].values())
    message = (
        f"Erased: {done} row(s) deleted, anonymised or kept without identifiers, "
        f"in {len(answer['tables'])} table(s)."
        if answer["tables"]
        else "Nothing is linked to that identifier."
    )
    return ctx.redirect("/dashboard/privacy", flash={"message": message})


async def audit_page(ctx: Ctx) -> Response:
    query = ctx.request.query_params
    raw_page = query.get("page", "1")
    current = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) < 10**6 else 1
    filters = {k: query.get(k, "") for k in ("actor", "action", "object_kind", "from", "to")}
    errors: dict[str, str] = {}
    try:
        listing = await audit_service.listing(
            ctx.store,
            {**filters, "limit": str(AUDIT_PAGE), "offset": str((current - 1) * AUDIT_PAGE)},
        )
    except InvalidField as exc:
        errors[exc.field or "actor"] = exc.message
        listing = await audit_service.listing(ctx.store, {"limit": str(AUDIT_PAGE)})
    pages = max(1, -(-listing["total"] // AUDIT_PAGE))
    kept = {k: v for k, v in filters.items() if v}

    def url(n: int) -> str:
        return "/dashboard/audit?" + urlencode({**kept, "page": n})

    return ctx.render(
        "audit.html",
        422 if errors else 200,
        entries=listing["items"],
        total=listing["total"],
        filters=filters,
        errors=errors,
        kinds=audit.OBJECT_KINDS,
        page=current,
        pages=pages,
        prev_url=url(current - 1) if current > 1 else None,
        next_url=url(current + 1) if current < pages else None,
    )


routes = [
    Route("/dashboard/privacy", page(privacy_page, role=ADMIN), methods=["GET"]),
    Route("/dashboard/privacy", page(privacy_request, role=ADMIN), methods=["POST"]),
    Route("/dashboard/audit", page(audit_page, role=ADMIN), methods=["GET"]),
]
