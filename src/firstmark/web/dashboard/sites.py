"""Dashboard sites: the websites that send events, each with the script tag to paste and a
check that its first event arrived; add a site, change its hosts.

The work is firstmark.services.sites, shared with /api/v1/sites and `firstmark site`; the
snippet is the API's (domain/sites.py to_json), so the page, the API and the docs agree.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from firstmark.domain import sites
from firstmark.domain.roles import ADMIN
from firstmark.domain.sites import Site
from firstmark.domain.times import iso
from firstmark.errors import Conflict, InvalidField
from firstmark.services import sites as sites_service
from firstmark.web.dashboard.views import HEADERS, Ctx, page

FIELDS = ("name", "hosts")


def hosts_of(text: str) -> list[str]:
    """Host names typed one a line (commas and spaces separate them too)."""
    return [h for h in re.split(r"[\s,]+", text) if h]


def status_message(last: datetime | None) -> str:
    if last is None:
        return "Waiting for the first event…"
    return f"Received: the latest event arrived {last:%Y-%m-%d %H:%M} UTC."


async def _row(ctx: Ctx, site: Site) -> dict[str, Any]:
    assert site.id is not None
    last = await sites_service.last_event(ctx.store, site.id)
    return {
        "site": site,
        "snippet": sites.to_json(site, ctx.settings.base_url)["snippet"],
        "received": last is not None,
        "status": status_message(last),
    }


async def _list(
    ctx: Ctx, status: int = 200, values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    return ctx.render(
        "sites.html",
        status,
        rows=[await _row(ctx, s) for s in await ctx.store.list_sites()],
        values=values or {},
        errors=errors or {},
    )


def _error(exc: InvalidField | Conflict) -> dict[str, str]:
    return {exc.field if exc.field in FIELDS else "hosts": exc.message}


async def sites_page(ctx: Ctx) -> Response:
    return await _list(ctx)


async def add_site(ctx: Ctx) -> Response:
    values = {name: ctx.value(name) for name in FIELDS}
    data: dict[str, Any] = {"hosts": hosts_of(values["hosts"])}
    if values["name"].strip():
        data["name"] = values["name"]
    try:
        saved = await sites_service.create(ctx.store, data)
    except (InvalidField, Conflict) as exc:
        return await _list(ctx, 422, values, _error(exc))
    ctx.runtime.sites.invalidate(saved.key)
    message = f"Site {saved.name} added: paste its snippet into your pages."
    return ctx.redirect(f"/dashboard/sites#site-{saved.id}", flash={"message": message})


async def edit_site(ctx: Ctx) -> Response:
    site_id: int = ctx.request.path_params["site_id"]
    site = await sites_service.get(ctx.store, site_id)
    values = {"hosts": "\n".join(site.hosts)}
    if ctx.request.method == "POST":
        values = {"hosts": ctx.value("hosts")}
        try:
            saved = await sites_service.set_hosts(ctx.store, site_id, hosts_of(values["hosts"]))
        except (InvalidField, Conflict) as exc:
            return ctx.render("site_form.html", 422, site=site, values=values, errors=_error(exc))
        ctx.runtime.sites.invalidate(saved.key)
        message = f"Hosts of {saved.name} saved."
        return ctx.redirect(f"/dashboard/sites#site-{saved.id}", flash={"message": message})
    return ctx.render("site_form.html", site=site, values=values, errors={})


async def site_status(ctx: Ctx) -> Response:
    """Whether the site's first event arrived, for the page to ask every few seconds."""
    site = await sites_service.get(ctx.store, ctx.request.path_params["site_id"])
    assert site.id is not None
    last = await sites_service.last_event(ctx.store, site.id)
    body = {
        "received": last is not None,
        "last_event": iso(last),
        "message": status_message(last),
    }
    return JSONResponse(body, headers=HEADERS)


# Sites are an admin's, as in the API (`admin` scope).
routes = [
    Route("/dashboard/sites", page(sites_page, role=ADMIN), methods=["GET"]),
    Route("/dashboard/sites", page(add_site, role=ADMIN), methods=["POST"]),
    Route(
        "/dashboard/sites/{site_id:int}/edit", page(edit_site, role=ADMIN), methods=["GET", "POST"]
    ),
    Route("/dashboard/sites/{site_id:int}/status", page(site_status, role=ADMIN), methods=["GET"]),
]
