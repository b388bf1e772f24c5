"""Dashboard API keys: the signed-in user's keys (an admin's: every key), a new key with the
scopes ticked (shown once, with a copy button), revoking one after asking.

What a key is, who may see it and what it may hold lives in firstmark.services.keys, shared
with `firstmark keys`; this page only reads the form and renders.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain.roles import ADMIN, ANALYST
from firstmark.errors import InvalidField
from firstmark.services import audit
from firstmark.services import keys as keys_service
from firstmark.services import users as users_service
from firstmark.store import User
from firstmark.web.dashboard.views import Ctx, actor, confirm_page, confirmed, page


async def _me(ctx: Ctx) -> User:
    assert ctx.session.username is not None
    return await users_service.find(ctx.store, ctx.session.username)


async def keys_page(ctx: Ctx) -> Response:
    me = await _me(ctx)
    shown: str | None = None
    errors: dict[str, str] = {}
    name = ""
    chosen: list[str] = []
    status = 200
    if ctx.request.method == "POST":
        assert ctx.form is not None
        name = ctx.value("name")
        chosen = [s for s in ctx.form.getlist("scope") if isinstance(s, str)]
        try:
            shown, made = await keys_service.create_from_input(ctx.store, me, name, chosen)
        except InvalidField as exc:
            errors[exc.field if exc.field == "name" else "scope"] = exc.message
            status = 422
        else:
            await audit.record(ctx.store, actor(ctx), "create", "key", made.prefix)
            name, chosen = "", []
    admin = ctx.can(ADMIN)
    return ctx.render(
        "keys.html",
        status,
        keys=await keys_service.visible_to(ctx.store, me),
        owners={u.id: u.username for u in await ctx.store.list_users()} if admin else {},
        scopes=keys_service.offered(me),
        shown=shown,
        errors=errors,
        name=name,
        chosen=chosen,
    )


async def revoke_key(ctx: Ctx) -> Response:
    prefix = ctx.request.path_params["prefix"]
    key = await keys_service.find(ctx.store, prefix, await _me(ctx))
    if key is None:
        return ctx.redirect("/dashboard/keys", flash={"error": f"No key fm_{prefix}_…"})
    if not confirmed(ctx):
        named = f"fm_{key.prefix}_…" + (f" ({key.name})" if key.name else "")
        return confirm_page(
            ctx,
            title="Revoke this key?",
            message=f"Revoke {named}? Every request made with it is refused from then on; "
            "this cannot be undone.",
            button=f"Revoke fm_{key.prefix}",
            back="/dashboard/keys",
        )
    await ctx.store.revoke_api_key(key.prefix)
    await audit.record(ctx.store, actor(ctx), "revoke", "key", key.prefix)
    return ctx.redirect("/dashboard/keys", flash={"message": f"Revoked fm_{key.prefix}_…"})


routes = [
    Route("/dashboard/keys", page(keys_page, role=ANALYST), methods=["GET", "POST"]),
    Route("/dashboard/keys/{prefix}/revoke", page(revoke_key, role=ANALYST), methods=["POST"]),
]
