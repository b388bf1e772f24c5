"""The dashboard's page machinery: templates, the login and CSRF guard, flash messages.

Every dashboard handler is wrapped by `page()`: it reads the session, sends a visitor who is
not logged in to the login form, checks the CSRF token of every POST before the handler runs
(403 page, nothing done), and turns the errors a page can meet into HTML pages, not JSON.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import jinja2
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from firstmark import __version__
from firstmark.config import Settings
from firstmark.domain import figures, kpis, stats
from firstmark.domain.audit import user_actor
from firstmark.domain.phones import display
from firstmark.domain.roles import at_least
from firstmark.domain.schema import clean_text
from firstmark.errors import BodyTooLarge, FirstmarkError, InvalidField, NotFound
from firstmark.services.oidc import Provider
from firstmark.store import Store
from firstmark.web.dashboard.sessions import COOKIE, FLASH_COOKIE, Session, Sessions
from firstmark.web.http import bounded
from firstmark.web.runtime import Runtime, runtime
from firstmark.web.throttle import login_throttle

log = logging.getLogger("firstmark.dashboard")

FORM_LIMIT = 64 * 1024
DENIED = "Not allowed"
# Pages are never cached, never framed, and load nothing from another origin.
HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-robots-tag": "noindex",
}


def _load(name: str) -> str:
    return resources.files("firstmark.templates").joinpath(*name.split("/")).read_text()


def _number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return str(value)
    return f"{value:,}"


def _decimal(value: object) -> str:
    """A count that may be fractional (attributed conversions), without trailing zeros."""
    if value is None:
        return kpis.NO_VALUE
    if isinstance(value, Decimal):
        whole = value.to_integral_value()
        return f"{whole:,}" if value == whole else f"{value.normalize():,}"
    return _number(value)


def _when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "—" if value is None else value.strftime(fmt)


def _when_ts(value: float | None) -> str:
    """Epoch seconds for a page; a stored value no datetime can hold shows as a dash."""
    try:
        return _when(None if value is None else datetime.fromtimestamp(value, UTC))
    except (ValueError, OverflowError, OSError):
        return "—"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load),
        autoescape=True,
        auto_reload=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _number
    env.filters["kpi"] = kpis.shown
    env.filters["when"] = _when
    env.filters["dec"] = _decimal
    env.filters["phone"] = display
    env.filters["ts"] = _when_ts
    env.filters["amount"] = figures.money
    env.filters["roas"] = figures.roas
    env.filters["pct"] = figures.percent
    env.globals["version"] = __version__
    return env


class Dashboard:
    """What the dashboard keeps for the life of the app (its settings are the runtime's)."""

    def __init__(self, settings: Settings) -> None:
        self.sessions = Sessions(
            settings.secret_key,
            max_age_s=int(settings.session_hours * 3600),
            secure=settings.base_url.startswith("https://"),
        )
        self.throttle = login_throttle()
        self.env = environment()
        # Single sign-on, when an issuer is set (tests swap in one that talks to a fake).
        self.oidc = Provider(settings) if settings.oidc else None


@dataclass
class Ctx:
    """One dashboard request: its session, its form (POST), and rendering helpers."""

    request: Request
    session: Session
    dashboard: Dashboard
    form: FormData | None = None
    new_session: bool = False
    flash: dict[str, Any] | None = None

    @property
    def runtime(self) -> Runtime:
        return runtime(self.request)

    @property
    def store(self) -> Store:
        return self.runtime.store

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def can(self, least: str) -> bool:
        """Whether the signed-in user's role is at least `least` (what a page may offer)."""
        return at_least(self.session.role, least)

    def value(self, name: str) -> str:
        """A form field as text ('' when absent or a file)."""
        raw = self.form.get(name) if self.form is not None else None
        return raw if isinstance(raw, str) else ""

    async def file(self, name: str, limit: int) -> tuple[str, bytes] | None:
        """An uploaded file's name and bytes (at most `limit` + 1 of them, so a caller can tell
        an oversized file); None when no file was chosen."""
        raw = self.form.get(name) if self.form is not None else None
        if raw is None or isinstance(raw, str):
            return None
        data = await raw.read(limit + 1)
        if not data and not raw.filename:
            return None  # the browser sends an empty part when no file was chosen
        return raw.filename or "", data

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        context = {
            "path": self.request.url.path,
            "user": self.session.username,
            "role": self.session.role,
            "can": self.can,
            "csrf": self.dashboard.sessions.csrf_token(self.session),
            "flash": self.flash,
            "base_url": self.settings.base_url,
            **values,
        }
        html = self.dashboard.env.get_template(f"dashboard/{template}").render(context)
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    def redirect(self, url: str, flash: Mapping[str, Any] | None = None) -> Response:
        response = RedirectResponse(url, status_code=303, headers=HEADERS)
        if flash is not None:
            self.dashboard.sessions.set_flash(response, dict(flash))
        return response


Handler = Callable[[Ctx], Awaitable[Response]]


def date_range(ctx: Ctx) -> tuple[stats.Range, dict[str, str], dict[str, str]]:
    """The page's date range from ?from=&to= (dates, UTC); a bad one is reported next to its
    field and the last 30 days are shown instead."""
    params = {k: ctx.request.query_params.get(k, "") for k in ("from", "to")}
    errors: dict[str, str] = {}
    now = datetime.now(UTC)
    try:
        span = stats.parse_range({**{k: v for k, v in params.items() if v}, "interval": "day"}, now)
    except InvalidField as exc:
        errors[exc.field or "from"] = exc.message
        span = stats.parse_range({"interval": "day"}, now)
    shown = {
        "from": params["from"] or span.start.strftime("%Y-%m-%d"),
        "to": params["to"] or (span.end - timedelta(days=1)).strftime("%Y-%m-%d"),
    }
    return span, shown, errors


def day_labels(span: stats.Range) -> list[str]:
    return [p["t"][:10] for p in stats.series([], span)]  # type: ignore[index]


def column(series: list[dict[str, object]], key: str) -> list[int]:
    """One count of every point of a series."""
    return [v if isinstance(v := p[key], int) else 0 for p in series]


def safe_next(target: str | None) -> str:
    """Where to go after login: a path under /dashboard on this server, never another site and
    never another part of it. Anything else (a scheme, a host, `..` segments, backslashes,
    control characters or spaces a browser would strip) goes to /dashboard."""
    fallback = "/dashboard"
    if not target or len(target) > 2048:
        return fallback
    if any(c <= " " or c in "\\\x7f" for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return fallback
    path = unquote(parts.path)
    if any(c <= " " or c in "\\\x7f" for c in path):
        return fallback
    if path != "/dashboard" and not path.startswith("/dashboard/"):
        return fallback
    if posixpath.normpath(path) != path.rstrip("/") or "/./" in path or "/../" in path:
        return fallback
    return target


async def read_form(request: Request, upload: int = 0) -> FormData:
    """The POSTed form. Pages that take a file say how large it may be (`upload` bytes); the
    others take no file at all."""
    limit = f"{upload // 2**20} MB" if upload >= 2**20 else f"{(upload + FORM_LIMIT) // 1024} KB"
    form_request = bounded(
        request, FORM_LIMIT + upload, lambda: BodyTooLarge(f"the upload is larger than {limit}")
    )
    form = await form_request.form(
        max_files=1 if upload else 0, max_fields=200, max_part_size=FORM_LIMIT
    )
    # NUL and invalid text cannot be stored on every engine and no form field wants them.
    return FormData(
        [(clean_text(k), clean_text(v) if isinstance(v, str) else v) for k, v in form.multi_items()]
    )


def error_page(dashboard: Dashboard, status: int, title: str, message: str) -> HTMLResponse:
    html = dashboard.env.get_template("dashboard/error.html").render(
        title=title,
        message=message,
        status=status,
        user=None,
        role="",
        can=lambda least: False,
        path="",
        flash=None,
        csrf="",
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def page(
    handler: Handler, *, role: str | None, post: str | None = None, upload: int = 0
) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint for `handler`, opened by users whose role is at least `role` (None: no
    login needed, the login form) and POSTed to by users whose role is at least `post` (by
    default `role`). Every page names its role, so a new page cannot forget one."""
    least_post = role if post is None else post

    async def endpoint(request: Request) -> Response:
        dashboard = runtime(request).dashboard
        sessions = dashboard.sessions
        # The cookie names a session the server must still hold: revoked means logged out.
        session = await sessions.resolve(runtime(request).store, request.cookies.get(COOKIE))
        if role is not None and (session is None or not session.logged_in):
            where = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(
                f"/dashboard/login?next={quote(where, safe='/')}", status_code=303, headers=HEADERS
            )
        least = least_post if request.method == "POST" else role
        if session is not None and least is not None and not at_least(session.role, least):
            return error_page(
                dashboard,
                403,
                DENIED,
                f"Your role ({session.role}) cannot "
                + ("do this" if request.method == "POST" else "open this page")
                + f"; it needs {least} or above. Ask an admin of this install.",
            )
        ctx = Ctx(request, session or sessions.new(), dashboard, new_session=session is None)
        try:
            if request.method == "POST":
                ctx.form = await read_form(request, upload)
                if not sessions.csrf_ok(session, ctx.form.get("csrf")):
                    return error_page(
                        dashboard,
                        403,
                        "The form has expired",
                        "The page was open too long, or the form did not come from this "
                        "dashboard. Nothing was changed. Go back, reload the page and try again.",
                    )
            flash_raw = request.cookies.get(FLASH_COOKIE)
            if flash_raw and request.method == "GET":
                ctx.flash = sessions.read_flash(flash_raw)
            response = await handler(ctx)
        except NotFound as exc:
            return error_page(dashboard, 404, "Not found", exc.message)
        except BodyTooLarge as exc:
            return error_page(dashboard, 413, "Too large", exc.message)
        except HTTPException as exc:  # e.g. a malformed multipart body
            return error_page(dashboard, exc.status_code, "Bad request", str(exc.detail))
        except FirstmarkError as exc:
            return error_page(dashboard, exc.status, "That did not work", exc.message)
        finally:
            if ctx.form is not None:
                await ctx.form.close()  # uploaded files may sit in temporary files
        if ctx.new_session:
            sessions.save(response, ctx.session)
        if flash_raw and request.method == "GET":
            sessions.clear_flash(response)
        return response

    endpoint.__name__ = handler.__name__
    endpoint.role = role  # type: ignore[attr-defined]  # read by the role matrix test
    endpoint.post_role = least_post  # type: ignore[attr-defined]
    return endpoint


def confirmed(ctx: Ctx) -> bool:
    """Whether a destructive form was confirmed: by the confirm page's button, or by the
    browser's dialog (dashboard.js adds the same field to a `data-confirm` form)."""
    return ctx.value("confirm") == "yes"


def confirm_page(ctx: Ctx, *, title: str, message: str, button: str, back: str) -> Response:
    """Ask first: a page whose form posts the same action again, confirmed. Nothing is done
    until that form is sent, so the question works without JavaScript."""
    return ctx.render(
        "confirm.html", title=title, message=message, button=button,
        action=ctx.request.url.path, back=back,
    )  # fmt: skip


def actor(ctx: Ctx) -> str:
    """Who the audit log names for this request: the signed-in user."""
    return user_actor(ctx.session.username or "", ctx.session.user_id)
