"""Dashboard destinations: the ad platforms conversions go to. List with health, add, edit
(credentials write-only: a blank field keeps what is stored), goal mapping, enable/disable,
a test event, and Connect for Google and LinkedIn (OAuth authorisation code with PKCE S256).

Connect keeps its PKCE verifier and state in a short-lived signed cookie bound to the session
nonce, so a callback only completes in the browser session that started it; the state sent
to the platform is a random value, never the verifier.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.responses import Response
from starlette.routing import Route

from firstmark.domain import destinations, oauth
from firstmark.domain.destinations import CREDENTIALS, OPTIONS, PLATFORMS, Destination
from firstmark.domain.roles import ADMIN
from firstmark.errors import Conflict, FirstmarkError, InvalidField, NotFound
from firstmark.forward.probe import probe
from firstmark.forward.tokens import ReauthNeeded, TokenUnavailable
from firstmark.services import audit
from firstmark.services import destinations as destinations_service
from firstmark.web.dashboard.sessions import PATH
from firstmark.web.dashboard.views import Ctx, actor, page

OAUTH_COOKIE = "fm_oauth"
OAUTH_SECONDS = 600  # the time a user has to grant access at the platform
CALLBACK = "/dashboard/destinations/oauth/callback"
LABELS = {
    "meta": "Meta", "google_ads": "Google Ads", "ga4": "Google Analytics 4",
    "tiktok": "TikTok", "linkedin": "LinkedIn", "microsoft": "Microsoft Advertising",
    "pinterest": "Pinterest", "snapchat": "Snapchat", "reddit": "Reddit",
}  # fmt: skip
FOREIGN = (
    "Connect failed: the answer did not belong to this browser session, or it took too long. "
    "Try Connect again."
)
LONG = frozenset({"service_account_key"})  # a textarea, not one line


def _serializer(ctx: Ctx) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.settings.secret_key, salt="firstmark.dashboard.oauth")


async def _dest(ctx: Ctx) -> Destination:
    dest_id = ctx.request.path_params["destination_id"]
    dest = await ctx.store.get_destination(dest_id)
    if dest is None:
        raise NotFound(f"no destination with id {dest_id}")
    return dest


def _credential_fields(platform: str) -> list[tuple[str, bool]]:
    required, optional = CREDENTIALS[platform]
    return [(name, name in required) for name in (*required, *optional)]


def form_body(ctx: Ctx, platform: str, goal_names: list[str], new: bool) -> dict[str, Any]:
    """The form as the JSON the API takes. Credentials: only fields filled in (write-only);
    goals: one platform event per goal, blank for none; options typed as the platform's."""
    body: dict[str, Any] = {"name": ctx.value("name").strip()}
    creds = {n: ctx.value(f"cred.{n}").strip() for n, _ in _credential_fields(platform)}
    filled = {n: v for n, v in creds.items() if v}
    if new or filled:
        body["credentials"] = filled
    body["goals"] = {
        g: ctx.value(f"goal.{g}").strip() for g in goal_names if ctx.value(f"goal.{g}").strip()
    }
    options: dict[str, Any] = {}
    for name, kind in OPTIONS[platform].items():
        raw = ctx.value(f"option.{name}").strip()
        if kind is bool:
            if raw:
                options[name] = True
        elif raw:
            if kind is int:
                if not raw.lstrip("-").isdigit():
                    raise InvalidField(f"options.{name}", f"options.{name} must be a whole number")
                options[name] = int(raw)
            else:
                options[name] = raw
    body["options"] = options
    body["endpoint_base"] = ctx.value("endpoint_base").strip() or None
    body["test_mode"] = bool(ctx.value("test_mode"))
    body["enabled"] = bool(ctx.value("enabled")) if not new else not ctx.value("disabled")
    if new:
        body["platform"] = platform
    return body


async def _list(ctx: Ctx) -> Response:
    rows = []
    for dest in await ctx.store.list_destinations():
        assert dest.id is not None
        rows.append(
            {
                "dest": dest,
                "label": LABELS.get(dest.platform, dest.platform),
                "counts": await ctx.store.outbox_counts(dest.id),
                "auth": destinations.auth_json(dest),
            }
        )
    return ctx.render("destinations.html", rows=rows, platforms=[(p, LABELS[p]) for p in PLATFORMS])


async def _form(
    ctx: Ctx, platform: str, dest: Destination | None, status: int = 200,
    values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    goal_names = [g.name for g in await ctx.store.list_goals()]
    if values is None:
        values = {}
        if dest is not None:
            values["name"] = dest.name
            values["endpoint_base"] = dest.endpoint_base or ""
            values["test_mode"] = "on" if dest.test_mode else ""
            values["enabled"] = "on" if dest.enabled else ""
            for goal, event in dest.goals.items():
                values[f"goal.{goal}"] = event
            for name, option in dest.options.items():
                values[f"option.{name}"] = "on" if option is True else str(option)
        else:
            values["name"] = LABELS[platform]
    return ctx.render(
        "destination_form.html",
        status,
        dest=dest,
        platform=platform,
        label=LABELS[platform],
        credentials=_credential_fields(platform),
        long_fields=LONG,
        stored=set(dest.credential_fields) if dest else set(),
        options=[(n, k.__name__) for n, k in OPTIONS[platform].items()],
        goal_names=goal_names,
        values=values,
        errors=errors or {},
        auth=destinations.auth_json(dest) if dest else None,
        connectable=platform in destinations.CONNECTABLE,
        ways=destinations.AUTH.get(platform, ()),
    )


def _error_field(exc: FirstmarkError) -> str:
    field = exc.field or "name"
    if field.startswith("credentials."):
        return "cred." + field.removeprefix("credentials.")
    if field.startswith("options."):
        return "option." + field.removeprefix("options.")
    if field.startswith("goals."):
        return "goal." + field.removeprefix("goals.")
    return field


def _values(ctx: Ctx) -> dict[str, str]:
    assert ctx.form is not None
    return {k: v for k, v in ctx.form.items() if isinstance(v, str) and not k.startswith("cred.")}


# --- pages ----------------------------------------------------------------------------------


async def destinations_page(ctx: Ctx) -> Response:
    return await _list(ctx)


async def new_destination(ctx: Ctx) -> Response:
    platform = ctx.request.query_params.get("platform", "")
    if platform not in PLATFORMS:
        return ctx.redirect("/dashboard/destinations", flash={"error": "Choose a platform."})
    return await _form(ctx, platform, None)


def _allow_private(ctx: Ctx) -> bool:
    """FIRSTMARK_DESTINATION_ALLOW_PRIVATE, as for the API and the CLI."""
    return ctx.settings.destination_allow_private


async def create_destination(ctx: Ctx) -> Response:
    platform = ctx.value("platform")
    if platform not in PLATFORMS:
        return ctx.redirect("/dashboard/destinations", flash={"error": "Choose a platform."})
    goal_names = [g.name for g in await ctx.store.list_goals()]
    try:
        body = form_body(ctx, platform, goal_names, new=True)
        saved = await destinations_service.create(
            ctx.store, ctx.runtime.credentials_sealer, body, allow_private=_allow_private(ctx)
        )
    except (InvalidField, Conflict) as exc:
        return await _form(ctx, platform, None, 422, _values(ctx), {_error_field(exc): exc.message})
    await audit.record(ctx.store, actor(ctx), "create", "destination", saved.id)
    return ctx.redirect(
        f"/dashboard/destinations/{saved.id}", flash={"message": f"Destination {saved.name} added."}
    )


async def destination_page(ctx: Ctx) -> Response:
    dest = await _dest(ctx)
    response = await _form(ctx, dest.platform, dest)
    if dest.platform in destinations.CONNECTABLE:
        # Connect posts here and is redirected to the platform's consent page: browsers
        # hold that redirect to the page's form-action, so this page names that one origin.
        auth = urlsplit(ctx.runtime.forwarder.tokens.urls.auth(dest.platform))
        policy = response.headers["content-security-policy"]
        response.headers["content-security-policy"] = policy.replace(
            "form-action 'self'", f"form-action 'self' {auth.scheme}://{auth.netloc}"
        )
    return response


async def update_destination(ctx: Ctx) -> Response:
    dest = await _dest(ctx)
    goal_names = [g.name for g in await ctx.store.list_goals()]
    try:
        body = form_body(ctx, dest.platform, goal_names, new=False)
        saved = await destinations_service.update(
            ctx.store, ctx.runtime.credentials_sealer, dest, body, allow_private=_allow_private(ctx)
        )
    except (InvalidField, Conflict) as exc:
        return await _form(
            ctx, dest.platform, dest, 422, _values(ctx), {_error_field(exc): exc.message}
        )
    await audit.record(
        ctx.store,
        actor(ctx),
        "update",
        "destination",
        saved.id,
        audit.fields(body),
    )
    return ctx.redirect(
        f"/dashboard/destinations/{saved.id}", flash={"message": f"{saved.name} saved."}
    )


async def toggle_destination(ctx: Ctx) -> Response:
    dest = await _dest(ctx)
    enable = ctx.value("enabled") == "true"
    saved = await destinations_service.update(
        ctx.store, ctx.runtime.credentials_sealer, dest, {"enabled": enable}
    )
    state = "enabled" if saved.enabled else "disabled"
    await audit.record(ctx.store, actor(ctx), state[:-1], "destination", saved.id)
    return ctx.redirect("/dashboard/destinations", flash={"message": f"{saved.name} {state}."})


async def test_destination(ctx: Ctx) -> Response:
    dest = await _dest(ctx)
    back = f"/dashboard/destinations/{dest.id}"
    try:
        result = await probe(ctx.runtime.probe_forwarder, dest, live=bool(ctx.value("live")))
    except (Conflict, InvalidField) as exc:
        return ctx.redirect(back, flash={"error": f"Not tested: {exc.message}"})
    if result.http_status is None:
        message = f"Test event not sent: the platform was not reached ({result.outcome.message})."
        return ctx.redirect(back, flash={"error": message})
    mode = "in the platform's test mode" if result.test_mode else "as a real event"
    text = (
        f"Test event {result.event_id} {mode}: HTTP {result.http_status}, {result.outcome.status}."
    )
    if result.outcome.message:
        text += f" {result.outcome.message}"
    key = "message" if result.outcome.ok else "error"
    return ctx.redirect(back, flash={key: text})


# --- Connect (OAuth authorisation code + PKCE) -----------------------------------------------


def redirect_uri(ctx: Ctx) -> str:
    return ctx.settings.base_url.rstrip("/") + CALLBACK


async def connect_destination(ctx: Ctx) -> Response:
    """Send the browser to the platform to grant access; the verifier stays in a cookie."""
    dest = await _dest(ctx)
    back = f"/dashboard/destinations/{dest.id}"
    if dest.platform not in destinations.CONNECTABLE:
        return ctx.redirect(back, flash={"error": f"{LABELS[dest.platform]} has no Connect."})
    creds = {
        k: str(v) for k, v in ctx.runtime.credentials_sealer.open(dest.credentials_sealed).items()
    }
    if not all(creds.get(k) for k in destinations.CONNECTABLE[dest.platform]):
        message = "Enter the OAuth client id and client secret first, then Connect."
        return ctx.redirect(back, flash={"error": message})
    verifier, challenge = oauth.pkce_pair()
    state = secrets.token_urlsafe(24)
    urls = ctx.runtime.forwarder.tokens.urls
    target = oauth.authorize_url(
        dest.platform, urls.auth(dest.platform), creds["client_id"], redirect_uri(ctx), state,
        challenge, dest.options,
    )  # fmt: skip
    response = ctx.redirect(target)
    pending = {"s": state, "v": verifier, "d": dest.id, "n": ctx.session.nonce}
    response.set_cookie(
        OAUTH_COOKIE, _serializer(ctx).dumps(pending), max_age=OAUTH_SECONDS, path=PATH,
        secure=ctx.settings.base_url.startswith("https://"), httponly=True, samesite="lax",
    )  # fmt: skip
    return response


async def oauth_callback(ctx: Ctx) -> Response:
    """The platform sends the browser back with a code (or an error): exchange the code at
    the token endpoint with the verifier and keep the refresh token, sealed."""
    params = ctx.request.query_params
    try:
        pending = _serializer(ctx).loads(
            ctx.request.cookies.get(OAUTH_COOKIE, ""), max_age=OAUTH_SECONDS
        )
    except BadData:
        pending = None
    state = params.get("state", "")
    if (
        not isinstance(pending, dict)
        or not state
        or not secrets.compare_digest(str(pending.get("s", "")), state)
        or pending.get("n") != ctx.session.nonce
    ):
        # Not this flow's answer: the flow in progress (if any) stays open.
        return _done(ctx, "/dashboard/destinations", error=FOREIGN, clear=False)
    dest = await ctx.store.get_destination(int(pending["d"]))
    if dest is None:
        return _done(ctx, "/dashboard/destinations", error="That destination was removed.")
    back = f"/dashboard/destinations/{dest.id}"
    if params.get("error"):
        refused = params.get("error_description") or params["error"]
        return _done(ctx, back, error=f"The platform did not grant access: {refused[:200]}")
    code = params.get("code", "")
    if not code or len(code) > 2048:
        return _done(ctx, back, error="The platform sent no authorisation code.")
    sealer = ctx.runtime.credentials_sealer
    creds = {k: str(v) for k, v in sealer.open(dest.credentials_sealed).items()}
    form = oauth.code_form(creds, code, redirect_uri(ctx), str(pending["v"]))
    try:
        answer = await ctx.runtime.forwarder.tokens.exchange(dest.platform, form)
    except (ReauthNeeded, TokenUnavailable) as exc:
        return _done(ctx, back, error=f"Connect failed: {exc.message}")
    refresh = answer.get("refresh_token")
    if not isinstance(refresh, str) or not refresh:
        return _done(ctx, back, error="Connect failed: the platform gave no refresh token "
                     "(for LinkedIn, the app needs programmatic refresh tokens).")  # fmt: skip
    assert dest.id is not None
    ctx.runtime.forwarder.tokens.forget(dest.id)
    saved = await destinations_service.connect(ctx.store, sealer, dest, refresh)
    await audit.record(ctx.store, actor(ctx), "connect", "destination", saved.id)
    return _done(ctx, back, message=f"{saved.name} connected.")


def _done(
    ctx: Ctx, url: str, *, error: str | None = None, message: str | None = None, clear: bool = True
) -> Response:
    flash = {"error": error} if error else {"message": message or ""}
    response = ctx.redirect(url, flash=flash)
    if clear:  # one code, one attempt: a reload of the callback does not exchange again
        response.delete_cookie(OAUTH_COOKIE, path=PATH, httponly=True, samesite="lax")
    return response


routes = [
    Route("/dashboard/destinations", page(destinations_page, role=ADMIN), methods=["GET"]),
    Route("/dashboard/destinations", page(create_destination, role=ADMIN), methods=["POST"]),
    Route("/dashboard/destinations/new", page(new_destination, role=ADMIN), methods=["GET"]),
    Route(CALLBACK, page(oauth_callback, role=ADMIN), methods=["GET"]),
    Route(
        "/dashboard/destinations/{destination_id:int}",
        page(destination_page, role=ADMIN),
        methods=["GET"],
    ),
    Route(
        "/dashboard/destinations/{destination_id:int}",
        page(update_destination, role=ADMIN),
        methods=["POST"],
    ),
    Route(
        "/dashboard/destinations/{destination_id:int}/enabled",
        page(toggle_destination, role=ADMIN),
        methods=["POST"],
    ),
    Route(
        "/dashboard/destinations/{destination_id:int}/test",
        page(test_destination, role=ADMIN),
        methods=["POST"],
    ),
    Route(
        "/dashboard/destinations/{destination_id:int}/connect",
        page(connect_destination, role=ADMIN),
        methods=["POST"],
    ),
]
