"""The dashboard's own pages: login, overview, campaigns (links grouped), settings.

The other pages have their own modules (links.py, qr.py, reports.py, ...); __init__.py lists
every route. Handlers parse, call domain and store, render a template from templates/dashboard/.
Every POST carries a CSRF token (checked in views.page).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from firstmark.config import Settings
from firstmark.domain import figures, kpis, periods, stats
from firstmark.domain.passwords import check_password, hash_password
from firstmark.domain.roles import ADMIN, ANALYST, VIEWER
from firstmark.domain.utm import taxonomy
from firstmark.errors import NotFound
from firstmark.services import calls as calls_service
from firstmark.store import CallTotal, GroupRow
from firstmark.web.clientip import ClientIP
from firstmark.web.dashboard import charts, ranges, reports
from firstmark.web.dashboard.views import (
    HEADERS,
    Ctx,
    Dashboard,
    column,
    date_range,
    day_labels,
    page,
    safe_next,
)

# A hash to check a password against when the user does not exist, so a wrong name and a
# wrong password take the same time.
_NO_USER = hash_password("no such user")


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    role: str = VIEWER  # the least role that sees it (the page itself checks too)


# The navigation, in order. Pages added later (QR codes, conversions, goals, calls, numbers,
# costs, attribution) take their place here and nowhere else.
NAV = (
    NavItem("/dashboard", "Overview"),
    NavItem("/dashboard/web", "Web"),
    NavItem("/dashboard/campaigns", "Campaigns"),
    NavItem("/dashboard/channels", "Channels"),
    NavItem("/dashboard/links", "Links"),
    NavItem("/dashboard/reports", "Reports"),
    NavItem("/dashboard/attribution", "Attribution"),
    NavItem("/dashboard/paths", "Paths"),
    NavItem("/dashboard/customers", "Customers"),
    NavItem("/dashboard/budget", "Budget"),
    NavItem("/dashboard/conversions", "Conversions"),
    NavItem("/dashboard/calls", "Calls"),
    NavItem("/dashboard/numbers", "Numbers"),
    NavItem("/dashboard/costs", "Ad costs"),
    NavItem("/dashboard/deals", "CRM deals"),
)
NAV_ADMIN = (
    NavItem("/dashboard/sites", "Sites", ADMIN),
    NavItem("/dashboard/destinations", "Destinations", ADMIN),
    NavItem("/dashboard/forwarding", "Forwarding"),
    NavItem("/dashboard/alerts", "Alerts"),
    NavItem("/dashboard/keys", "API keys", ANALYST),
    NavItem("/dashboard/users", "Users", ADMIN),
    NavItem("/dashboard/settings", "Settings", ADMIN),
    NavItem("/dashboard/privacy", "Privacy", ADMIN),
    NavItem("/dashboard/audit", "Audit log", ADMIN),
    NavItem("/dashboard/webhooks", "Webhooks", ADMIN),
)

GROUP_PAGES = {
    "campaigns": (
        "Campaigns",
        {
            "campaign": "Campaign",
            "utm_campaign": "utm_campaign",
            "tag": "Tag",
            "utm_source": "utm_source",
            "utm_medium": "utm_medium",
        },
    ),
}


def setup(settings: Settings) -> Dashboard:
    dashboard = Dashboard(settings)
    dashboard.env.globals["nav"] = NAV
    dashboard.env.globals["nav_admin"] = NAV_ADMIN
    dashboard.env.globals["bar"] = charts.bar
    return dashboard


# --- login ----------------------------------------------------------------------------------


def client_address(ctx: Ctx) -> str:
    peer = ctx.request.client.host if ctx.request.client else ""
    resolver = ClientIP(ctx.settings.trusted_proxies)
    return resolver.resolve(peer, ctx.request.headers.get("x-forwarded-for"))


def throttled(wait: int) -> str:
    """The message for a client that must wait `wait` seconds before its next attempt."""
    when = f"{wait} second(s)" if wait < 120 else f"{-(-wait // 60)} minute(s)"
    return f"Too many failed attempts. Try again in {when}."


def sso_label(ctx: Ctx) -> str | None:
    """The identity provider the login page offers ("Sign in with …"), if any."""
    return ctx.dashboard.oidc.label if ctx.dashboard.oidc is not None else None


async def login(ctx: Ctx) -> Response:
    if ctx.session.logged_in:
        return RedirectResponse("/dashboard", status_code=303, headers=HEADERS)
    next_url = safe_next(ctx.request.query_params.get("next") or ctx.value("next"))
    if ctx.request.method == "GET":
        return ctx.render("login.html", next=next_url, username="", error=None, sso=sso_label(ctx))
    address = client_address(ctx)
    throttle = ctx.dashboard.throttle
    username = ctx.value("username").strip()[:200]
    account = username.casefold()
    # Per network and per account: the password is not even checked while either must wait.
    wait = throttle.retry_after(address, account)
    if wait:
        error = throttled(wait)
        answer = ctx.render(
            "login.html", 429, next=next_url, username=username, error=error, sso=sso_label(ctx)
        )
        answer.headers["retry-after"] = str(wait)
        return answer
    user = await ctx.store.user_by_name(username) if username else None
    # scrypt on a worker thread: a login must not hold every redirect for 50-100 ms.
    password_ok = await ctx.runtime.workers.thread(
        check_password, ctx.value("password"), user.password_hash if user else _NO_USER
    )
    if user is None or not password_ok:
        throttle.failed(address, account)
        error = "Wrong username or password."
        return ctx.render(
            "login.html", 401, next=next_url, username=username, error=error, sso=sso_label(ctx)
        )
    throttle.succeeded(address, account)
    if user.disabled:
        error = "This account is disabled. Ask an admin of this install."
        return ctx.render(
            "login.html", 403, next=next_url, username=username, error=error, sso=sso_label(ctx)
        )
    response = RedirectResponse(next_url, status_code=303, headers=HEADERS)
    # A new session (new nonce, new server-side id) at login: whatever came before is not
    # promoted.
    ctx.dashboard.sessions.save(response, await ctx.dashboard.sessions.start(ctx.store, user))
    ctx.new_session = False
    return response


async def logout(ctx: Ctx) -> Response:
    await ctx.dashboard.sessions.end(ctx.store, ctx.session)
    response = ctx.redirect("/dashboard/login", flash={"message": "You are logged out."})
    ctx.dashboard.sessions.clear(response)
    return response


# --- overview and groups --------------------------------------------------------------------


def _group_rows(
    rows: list[GroupRow], calls: dict[str | None, CallTotal] | None = None
) -> list[dict[str, Any]]:
    """Groups of links with their traffic and, where the grouping has them, calls; a group
    only calls reached (a campaign on a printed number alone) gets a row too."""
    out = [
        {
            "value": r.value,
            "links": r.links,
            "clicks": r.clicks,
            "scans": r.scans,
            "uniques": r.uniques,
            "humans": r.hits - r.bot_hits,
            "bots": r.bot_hits,
            "bot_share": kpis.ratio(r.bot_hits, r.hits, scale=100),
            **(
                calls_service.empty() if calls is None else calls_service.fields(calls.get(r.value))
            ),
        }
        for r in rows
    ]
    if calls is not None:
        seen = {r.value for r in rows}
        out += [
            {"value": value, "links": 0, "clicks": 0, "scans": 0, "uniques": 0, "humans": 0,
             "bots": 0, "bot_share": None, **calls_service.fields(total)}
            for value, total in calls.items()
            if value not in seen
        ]  # fmt: skip
    return out


async def overview(ctx: Ctx) -> Response:
    params = reports.Params(ctx)
    span, dates, errors = params.span, params.dates, params.errors
    money = await reports.overview_kpis(ctx, params)
    start, end = span.start.timestamp(), span.end.timestamp()
    rows = await ctx.store.rollups(None, start, end)
    totals = stats.totals(rows)
    before = periods.previous(span)
    earlier = stats.totals(
        await ctx.store.rollups(None, before.start.timestamp(), before.end.timestamp())
    )
    traffic = ("clicks", "scans", "uniques", "humans")
    changes = {
        **figures.changes({k: totals[k] for k in traffic}, {k: earlier[k] for k in traffic}),
        **money["changes"],
    }
    series = stats.series(rows, span)
    labels = day_labels(span)
    chart = charts.time_series(
        labels,
        [
            charts.Line("clicks", "clicks", column(series, "clicks")),
            charts.Line("scans", "scans", column(series, "scans")),
            charts.Line("unique visitors", "uniques", column(series, "uniques")),
        ],
        title="Clicks, scans and unique visitors per day",
    )
    campaigns = _group_rows(await ctx.store.group_totals("campaign", start, end))[:5]
    sources = _group_rows(await ctx.store.group_totals("utm_source", start, end))[:5]
    return ctx.render(
        "overview.html",
        dates=dates,
        errors=errors,
        totals=totals,
        bot_share=kpis.ratio(totals["bots"], totals["hits"], scale=100),
        links=await ctx.store.count_links(),
        chart=chart,
        labels=labels,
        series=series,
        campaigns=campaigns,
        sources=sources,
        report=money["money"],
        changes=changes,
        ranges=ranges.choices(ctx, dates),
        carry=ranges.carried(dates),
        **ranges.compared(span),
        currency=money["currency"],
        currencies=money["currencies"],
        others=[c for c in money["currencies"] if c != money["currency"]],
    )


async def groups(ctx: Ctx) -> Response:
    name = ctx.request.url.path.rsplit("/", 1)[-1]
    title, choices = GROUP_PAGES[name]
    by = ctx.request.query_params.get("by") or next(iter(choices))
    if by not in choices:
        by = next(iter(choices))
    span, dates, errors = date_range(ctx)
    start, end = span.start.timestamp(), span.end.timestamp()
    calls = await calls_service.by_group(ctx.store, by, start, end)
    rows = _group_rows(await ctx.store.group_totals(by, start, end), calls)
    return ctx.render(
        "groups.html",
        title=title,
        choices=choices,
        by=by,
        dates=dates,
        errors=errors,
        rows=rows,
        ranges=ranges.choices(ctx, dates),
        peak=max((r["humans"] for r in rows), default=0),
        totals={k: sum(r[k] for r in rows) for k in ("clicks", "scans", "uniques", "bots")},
        calls=None
        if calls is None
        else {k: sum(r[k] for r in rows) for k in ("calls", "answered_calls", "qualified_calls")},
    )


# --- settings -------------------------------------------------------------------------------


def _database(url: str) -> str:
    """The database without credentials: engine and place only."""
    if url.startswith("sqlite:"):
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def public_settings(settings: Settings) -> list[tuple[str, str, str]]:
    """(variable, value, note) for every setting that is not a secret."""
    known = taxonomy(settings.utm_sources, settings.utm_mediums)

    def listed(values: tuple[Any, ...], empty: str) -> str:
        return ", ".join(str(v) for v in values) if values else empty

    return [
        ("FIRSTMARK_BASE_URL", settings.base_url, "short URLs start with it"),
        ("FIRSTMARK_DATABASE_URL", _database(settings.database_url), "credentials hidden"),
        ("FIRSTMARK_HOST / PORT", f"{settings.host}:{settings.port}", "where serve listens"),
        ("FIRSTMARK_TRUSTED_PROXIES", listed(settings.trusted_proxies, "none"), ""),
        ("FIRSTMARK_GEOIP_DB", "configured" if settings.geoip_db else "not set", ""),
        ("FIRSTMARK_CLICK_TOKENS", "on" if settings.click_tokens else "off", ""),
        ("FIRSTMARK_CLICK_TOKEN_PARAM", settings.click_token_param, ""),
        ("FIRSTMARK_ALLOWED_DESTINATION_HOSTS",
         listed(settings.allowed_destination_hosts, "any"), ""),
        ("FIRSTMARK_UTM_SOURCES", ", ".join(sorted(known.sources)),
         "configured" if settings.utm_sources else "built-in list"),
        ("FIRSTMARK_UTM_MEDIUMS", ", ".join(sorted(known.mediums)),
         "configured" if settings.utm_mediums else "built-in list"),
        ("FIRSTMARK_SESSION_HOURS", f"{settings.session_hours:g}", "dashboard login lifetime"),
        ("FIRSTMARK_OIDC_ISSUER", settings.oidc_issuer or "off",
         f"single sign-on; new users: {settings.oidc_new_users}" if settings.oidc else ""),
        ("FIRSTMARK_LINK_CACHE_TTL", f"{settings.link_cache_ttl:g} s", ""),
        ("FIRSTMARK_HIT_FLUSH_MS", f"{settings.hit_flush_ms} ms", ""),
        ("FIRSTMARK_HIT_BATCH / HIT_BUFFER", f"{settings.hit_batch} / {settings.hit_buffer}", ""),
        ("FIRSTMARK_KEEP_ALIVE", f"{settings.keep_alive:g} s", ""),
        ("FIRSTMARK_LOG_LEVEL", settings.log_level, ""),
    ]  # fmt: skip


async def settings_page(ctx: Ctx) -> Response:
    return ctx.render("settings.html", rows=public_settings(ctx.settings))


async def unknown(ctx: Ctx) -> Response:
    raise NotFound(f"There is no dashboard page at {ctx.request.url.path}.")


async def root_slash(request: Request) -> Response:
    return RedirectResponse("/dashboard", status_code=308)


routes = [
    Route("/dashboard", page(overview, role=VIEWER), methods=["GET"]),
    Route("/dashboard/", root_slash, methods=["GET"]),
    Route("/dashboard/login", page(login, role=None), methods=["GET", "POST"]),
    Route("/dashboard/logout", page(logout, role=VIEWER), methods=["POST"]),
    Route("/dashboard/campaigns", page(groups, role=VIEWER), methods=["GET"]),
    Route("/dashboard/settings", page(settings_page, role=ADMIN), methods=["GET"]),
]
# Any other path under /dashboard: a 404 page (after every other dashboard route).
fallback = Route("/dashboard/{rest:path}", page(unknown, role=VIEWER), methods=["GET"])
