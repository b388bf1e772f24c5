"""Single sign-on pages: the link that leaves for the identity provider, and the callback it
sends the browser back to.

What the callback checks the answer against (state, nonce, PKCE verifier, where to go next)
rides in a cookie of its own, signed with the server secret, for ten minutes, on the browser
that started: a callback in another browser, or with another state, ends in an error page. A
sign-in that passes starts a server-side session exactly as the password login does. Failures
are logged by their reason alone: never a code, a token or a username.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from firstmark.domain.sso import username_from
from firstmark.errors import FirstmarkError, NotFound
from firstmark.services import audit
from firstmark.services import users as users_service
from firstmark.services.oidc import Pending, Provider, ProviderUnreachable, SignInRefused
from firstmark.web.dashboard.sessions import PATH
from firstmark.web.dashboard.views import HEADERS, Ctx, error_page, page, safe_next

log = logging.getLogger("firstmark.dashboard")

COOKIE = "fm_oidc"
MAX_AGE_S = 600  # from leaving for the provider to coming back
TITLE = "Single sign-on did not work"


def _signer(ctx: Ctx) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.settings.secret_key, salt="firstmark.dashboard.oidc")


def _provider(ctx: Ctx) -> Provider:
    if ctx.dashboard.oidc is None:
        raise NotFound("Single sign-on is not set up on this install.")
    return ctx.dashboard.oidc


def _save(ctx: Ctx, response: Response, pending: Pending) -> None:
    data = [pending.state, pending.nonce, pending.verifier, pending.next]
    # No Domain attribute: only this host gets it back. Lax: the provider's redirect back to
    # the callback is a top-level GET, which Lax lets through.
    response.set_cookie(
        COOKIE,
        _signer(ctx).dumps(data),
        max_age=MAX_AGE_S,
        path=PATH,
        secure=ctx.dashboard.sessions.secure,
        httponly=True,
        samesite="lax",
    )


def _read(ctx: Ctx) -> Pending | None:
    raw = ctx.request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data: Any = _signer(ctx).loads(raw, max_age=MAX_AGE_S)
    except BadData:
        return None
    if not isinstance(data, list) or len(data) != 4 or not all(isinstance(v, str) for v in data):
        return None
    return Pending(*data)


def _clear(ctx: Ctx, response: Response) -> None:
    response.delete_cookie(
        COOKIE, path=PATH, secure=ctx.dashboard.sessions.secure, httponly=True, samesite="lax"
    )


def _failed(ctx: Ctx, exc: FirstmarkError, reason: str) -> Response:
    log.warning("single sign-on failed: %s", reason)
    status = exc.status if 400 <= exc.status < 600 else 400
    message = exc.message
    if isinstance(exc, ProviderUnreachable):
        message = f"The identity provider could not be reached or answered wrongly: {message}."
    response = error_page(ctx.dashboard, status, TITLE, message)
    _clear(ctx, response)
    return response


async def start(ctx: Ctx) -> Response:
    """Leave for the provider's sign-in page."""
    provider = _provider(ctx)
    if ctx.session.logged_in:
        return RedirectResponse("/dashboard", status_code=303, headers=HEADERS)
    next_url = safe_next(ctx.request.query_params.get("next"))
    try:
        url, pending = await provider.start(next_url)
    except ProviderUnreachable as exc:
        return _failed(ctx, exc, exc.message)
    response = RedirectResponse(url, status_code=303, headers=HEADERS)
    _save(ctx, response, pending)
    return response


async def _check(ctx: Ctx, pending: Pending | None) -> dict[str, Any]:
    """The ID token's claims, once the answer is known to belong to this browser's sign-in."""
    params = ctx.request.query_params
    if pending is None:
        raise SignInRefused(
            "This sign-in did not start in this browser, or took longer than 10 minutes. "
            "Start again from the login page.",
            "no pending sign-in cookie, or an expired one",
        )
    if not hmac.compare_digest(params.get("state", "").encode(), pending.state.encode()):
        raise SignInRefused(
            "This answer does not belong to the sign-in this browser started. Start again "
            "from the login page.",
            "state does not match",
        )
    if params.get("error"):
        error = params["error"][:64]
        raise SignInRefused(
            f"The identity provider did not sign you in ({error}).", f"provider said {error}", 403
        )
    code = params.get("code", "")
    if not code:
        raise SignInRefused("The identity provider sent no sign-in code.", "no code")
    return await _provider(ctx).finish(pending, code)


async def callback(ctx: Ctx) -> Response:
    """Where the provider sends the browser back: check everything, then sign in."""
    _provider(ctx)
    pending = _read(ctx)
    try:
        claims = await _check(ctx, pending)
        username = username_from(claims, ctx.settings.oidc_username_claim)
        new_role = None if ctx.settings.oidc_new_users == "off" else ctx.settings.oidc_new_users
        user, created = await users_service.for_sign_in(
            ctx.store, username, new_role, ctx.runtime.workers
        )
    except SignInRefused as exc:
        return _failed(ctx, exc, exc.reason)
    except ProviderUnreachable as exc:
        return _failed(ctx, exc, exc.message)
    except FirstmarkError as exc:
        return _failed(ctx, exc, f"user refused ({exc.code})")
    assert pending is not None  # _check refused the callback otherwise
    if created:
        # By id: the username may be an e-mail address, which stays in the users table.
        await audit.record(ctx.store, "sso", "create", "user", user.id, {"role": user.role})
    response = RedirectResponse(pending.next, status_code=303, headers=HEADERS)
    await ctx.dashboard.sessions.end(ctx.store, ctx.session)  # one signed in already: replaced
    # A new session at sign-in, as with a password: nothing from before is promoted.
    ctx.dashboard.sessions.save(response, await ctx.dashboard.sessions.start(ctx.store, user))
    ctx.new_session = False
    _clear(ctx, response)
    return response


routes = [
    Route("/dashboard/login/oidc", page(start, role=None), methods=["GET"]),
    Route("/dashboard/login/oidc/callback", page(callback, role=None), methods=["GET"]),
]
