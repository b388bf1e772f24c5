"""Dashboard Users (admins and owners): who may use this install and with which role,
invitations by one-time link, role changes, disabling and removal; and the page an invited
colleague opens to join.

An invitation link is shown once, on the page that made it (never in a cookie or a redirect):
the inviter passes it on, no mail server needed. Removing a user asks first, on a page of its
own, so it works without JavaScript.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from firstmark.domain.invitations import INVITATION_DAYS, invitation_url
from firstmark.domain.passwords import MIN_LENGTH
from firstmark.domain.roles import ADMIN, ROLES, may_manage
from firstmark.errors import FirstmarkError, InvalidField
from firstmark.services import audit
from firstmark.services import users as service
from firstmark.store import User
from firstmark.web.dashboard.views import HEADERS, Ctx, actor, page

PAGE = "/dashboard/users"


async def _me(ctx: Ctx) -> User:
    assert ctx.session.username is not None
    return await service.find(ctx.store, ctx.session.username)


async def _render(
    ctx: Ctx, status: int = 200, *, link: str | None = None, error: str | None = None
) -> Response:
    me = await _me(ctx)
    rows: list[dict[str, Any]] = [
        {
            "user": user,
            "me": user.id == me.id,
            "manageable": user.id != me.id and may_manage(me.role, user.role),
            "roles": [r for r in ROLES if may_manage(me.role, user.role, r)],
        }
        for user in await ctx.store.list_users()
    ]
    return ctx.render(
        "users.html",
        status,
        rows=rows,
        invitations=await ctx.store.list_invitations(time.time()),
        grantable=[r for r in ROLES if may_manage(me.role, r, r)],
        link=link,
        error=error,
        days=INVITATION_DAYS,
    )


async def users_page(ctx: Ctx) -> Response:
    return await _render(ctx)


async def invite(ctx: Ctx) -> Response:
    me = await _me(ctx)
    try:
        token, made = await service.invite(
            ctx.store, ctx.value("role"), actor=actor(ctx), actor_role=me.role
        )
    except FirstmarkError as exc:
        return await _render(ctx, exc.status, error=exc.message)
    await audit.record(ctx.store, actor(ctx), "invite", "user", made.role)
    return await _render(ctx, 201, link=invitation_url(ctx.settings.base_url, token))


async def cancel_invitation(ctx: Ctx) -> Response:
    await ctx.store.delete_invitation(ctx.request.path_params["invitation_id"])
    return ctx.redirect(PAGE, flash={"message": "The invitation is cancelled."})


async def _target(ctx: Ctx) -> User:
    return await service.find(ctx.store, ctx.request.path_params["username"])


async def change_role(ctx: Ctx) -> Response:
    target = await _target(ctx)
    try:
        changed = await service.set_role(ctx.store, target, ctx.value("role"), actor=await _me(ctx))
    except FirstmarkError as exc:
        return ctx.redirect(PAGE, flash={"error": exc.message})
    await audit.record(ctx.store, actor(ctx), f"role:{changed.role}", "user", target.username)
    message = f"{target.username} is now {changed.role}."
    return ctx.redirect(PAGE, flash={"message": message})


async def _standing(ctx: Ctx, disabled: bool) -> Response:
    target = await _target(ctx)
    try:
        await service.set_disabled(ctx.store, target, disabled, actor=await _me(ctx))
    except FirstmarkError as exc:
        return ctx.redirect(PAGE, flash={"error": exc.message})
    verb = "disable" if disabled else "enable"
    await audit.record(ctx.store, actor(ctx), verb, "user", target.username)
    message = (
        f"{target.username} is disabled: signed out everywhere, API keys stopped."
        if disabled
        else f"{target.username} may sign in again."
    )
    return ctx.redirect(PAGE, flash={"message": message})


async def disable(ctx: Ctx) -> Response:
    return await _standing(ctx, True)


async def enable(ctx: Ctx) -> Response:
    return await _standing(ctx, False)


async def remove(ctx: Ctx) -> Response:
    target = await _target(ctx)
    if ctx.request.method == "GET":
        return ctx.render(
            "confirm.html",
            title=f"Remove {target.username}?",
            message=(
                f"{target.username} will be signed out everywhere and their API keys revoked. "
                "This cannot be undone; disabling the user instead can be."
            ),
            action=f"{PAGE}/{target.username}/remove",
            button="Remove the user",
            back=PAGE,
        )
    try:
        await service.remove(ctx.store, target, actor=await _me(ctx))
    except FirstmarkError as exc:
        return ctx.redirect(PAGE, flash={"error": exc.message})
    await audit.record(ctx.store, actor(ctx), "delete", "user", target.username)
    return ctx.redirect(PAGE, flash={"message": f"Removed {target.username}."})


async def join(ctx: Ctx) -> Response:
    """The invited colleague's page: choose a username and a password, then they are in."""
    token = ctx.request.path_params["token"]
    errors: dict[str, str] = {}
    username = ""
    if ctx.request.method == "POST":
        username = ctx.value("username").strip()[:64]
        password, repeat = ctx.value("password"), ctx.value("repeat")
        if password != repeat:
            errors["repeat"] = "The two passwords differ."
        else:
            try:
                user = await service.join(ctx.store, token, username, password, ctx.runtime.workers)
            except InvalidField as exc:
                errors[exc.field or "username"] = exc.message
            except FirstmarkError as exc:
                errors[exc.field or "token"] = exc.message
            else:
                await audit.record(ctx.store, f"user:{user.username}", "join", "user", user.role)
                response = RedirectResponse("/dashboard", status_code=303, headers=HEADERS)
                sessions = ctx.dashboard.sessions
                sessions.save(response, await sessions.start(ctx.store, user))
                ctx.new_session = False
                return response
    return ctx.render(
        "join.html",
        422 if errors else 200,
        token=token,
        username=username,
        errors=errors,
        min_length=MIN_LENGTH,
    )


routes = [
    Route(PAGE, page(users_page, role=ADMIN), methods=["GET"]),
    Route(f"{PAGE}/invite", page(invite, role=ADMIN), methods=["POST"]),
    Route(
        f"{PAGE}/invitations/{{invitation_id:int}}/cancel",
        page(cancel_invitation, role=ADMIN),
        methods=["POST"],
    ),
    Route(f"{PAGE}/{{username}}/role", page(change_role, role=ADMIN), methods=["POST"]),
    Route(f"{PAGE}/{{username}}/disable", page(disable, role=ADMIN), methods=["POST"]),
    Route(f"{PAGE}/{{username}}/enable", page(enable, role=ADMIN), methods=["POST"]),
    Route(f"{PAGE}/{{username}}/remove", page(remove, role=ADMIN), methods=["GET", "POST"]),
    Route("/dashboard/join/{token}", page(join, role=None), methods=["GET", "POST"]),
]
