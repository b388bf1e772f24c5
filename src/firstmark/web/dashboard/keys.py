"""Dashboard API keys: the list, a new key with chosen scopes (shown once), revoking one.

What a key is and how it is made and revoked lives in firstmark.services.keys, shared with
`firstmark keys`; this page only reads the form and renders.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain.keys import SCOPES
from firstmark.errors import InvalidField
from firstmark.services import audit
from firstmark.services import keys as keys_service
from firstmark.web.dashboard.views import Ctx, actor, confirm_page, confirmed, page


async def keys_page(ctx: Ctx) -> Response:
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
            shown, made = await keys_service.create_from_input(ctx.store, name, chosen)
        except InvalidField as exc:
            errors[exc.field if exc.field == "name" else "scope"] = exc.message
            status = 422
        else:
            await audit.record(ctx.store, actor(ctx), "create", "key", made.prefix)
            name, chosen = "", []
    return ctx.render(
        "keys.html",
        status,
        keys=await keys_service.listing(ctx.store),
        scopes=SCOPES,
        shown=shown,
        errors=errors,
        name=name,
        chosen=chosen,
    )


async def revoke_key(ctx: Ctx) -> Response:
    prefix = ctx.request.path_params["prefix"]
    key = await keys_service.find(ctx.store, prefix)
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
    await keys_service.revoke(ctx.store, key.prefix)
    await audit.record(ctx.store, actor(ctx), "revoke", "key", key.prefix)
    return ctx.redirect("/dashboard/keys", flash={"message": f"Revoked fm_{key.prefix}_…"})


routes = [
    Route("/dashboard/keys", page(keys_page), methods=["GET", "POST"]),
    Route("/dashboard/keys/{prefix}/revoke", page(revoke_key), methods=["POST"]),
]
