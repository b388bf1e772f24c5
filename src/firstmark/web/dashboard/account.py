"""The signed-in user's own account: change the password, sign out everywhere.

A password change needs the current password (throttled like a login, per network and per
account) and ends every other session; this browser gets a fresh one. "Sign out everywhere"
ends every session of the user, this one included.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain.passwords import MIN_LENGTH, check_password
from firstmark.domain.roles import VIEWER
from firstmark.errors import InvalidField
from firstmark.services import audit
from firstmark.services import users as users_service
from firstmark.web.dashboard.pages import client_address, throttled
from firstmark.web.dashboard.views import Ctx, actor, page


async def account(ctx: Ctx) -> Response:
    errors: dict[str, str] = {}
    status = 200
    if ctx.request.method == "POST":
        errors, status = await _change_password(ctx)
        if not errors:
            return _changed(ctx)
    response = ctx.render("account.html", status, errors=errors, min_length=MIN_LENGTH)
    if status == 429:
        response.headers["retry-after"] = errors.get("retry_after", "60")
    return response


async def _change_password(ctx: Ctx) -> tuple[dict[str, str], int]:
    assert ctx.session.username is not None
    address, account_key = client_address(ctx), ctx.session.username.casefold()
    throttle = ctx.dashboard.throttle
    wait = throttle.retry_after(address, account_key)
    if wait:
        return {"current": throttled(wait), "retry_after": str(wait)}, 429
    user = await users_service.find(ctx.store, ctx.session.username)
    if not await ctx.runtime.workers.thread(
        check_password, ctx.value("current"), user.password_hash
    ):
        throttle.failed(address, account_key)
        return {"current": "That is not your current password."}, 422
    new, repeat = ctx.value("password"), ctx.value("repeat")
    if new != repeat:
        return {"repeat": "The two new passwords differ."}, 422
    try:
        await users_service.set_password(ctx.store, user, new, ctx.runtime.workers)
    except InvalidField as exc:
        return {"password": exc.message}, 422
    await audit.record(ctx.store, actor(ctx), "password", "user", user.username)
    # Every session of the user has ended, this one too: this browser gets a new one.
    ctx.session = await ctx.dashboard.sessions.start(ctx.store, user)
    ctx.new_session = True
    return {}, 200


def _changed(ctx: Ctx) -> Response:
    message = "Your password is changed. Every other session is signed out."
    return ctx.redirect("/dashboard/account", flash={"message": message})


async def sign_out_everywhere(ctx: Ctx) -> Response:
    assert ctx.session.user_id is not None
    ended = await ctx.store.delete_user_sessions(ctx.session.user_id)
    message = f"You are signed out everywhere ({ended} session(s) ended)."
    response = ctx.redirect("/dashboard/login", flash={"message": message})
    ctx.dashboard.sessions.clear(response)
    return response


routes = [
    Route("/dashboard/account", page(account, role=VIEWER), methods=["GET", "POST"]),
    Route(
        "/dashboard/account/sign-out-everywhere",
        page(sign_out_everywhere, role=VIEWER),
        methods=["POST"],
    ),
]
