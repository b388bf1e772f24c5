"""Every role against every API route and every dashboard page, from the route tables: a new
route without a role rule fails here, and so does a page or route that lets a role through that
the rules keep out (or keeps out one they let in)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from conftest import BASE_URL
from dashtools import PASSWORD, csrf_of, log_in, make_client
from firstmark.domain.keys import SCOPES, new_key
from firstmark.domain.passwords import hash_password
from firstmark.domain.roles import (
    ADMIN,
    ANALYST,
    EDITOR,
    ROLES,
    SCOPE_ROLES,
    VIEWER,
    at_least,
)
from firstmark.store import Store
from firstmark.web import api, dashboard
from firstmark.web.api.contract import operations
from firstmark.web.dashboard.views import DENIED

# The least role of every dashboard page and form, as docs/users.md lists them. A new page
# needs a line here (and a role in its declaration) or the matrix test fails.
PAGES = {
    ("GET", "/dashboard"): VIEWER,
    ("POST", "/dashboard/logout"): VIEWER,
    ("GET", "/dashboard/campaigns"): VIEWER,
    ("GET", "/dashboard/keys"): ANALYST,
    ("POST", "/dashboard/keys"): ANALYST,
    ("POST", "/dashboard/keys/{prefix}/revoke"): ANALYST,
    ("GET", "/dashboard/settings"): ADMIN,
    ("GET", "/dashboard/account"): VIEWER,
    ("POST", "/dashboard/account"): VIEWER,
    ("POST", "/dashboard/account/sign-out-everywhere"): VIEWER,
    ("GET", "/dashboard/links"): VIEWER,
    ("GET", "/dashboard/links/new"): EDITOR,
    ("POST", "/dashboard/links/new"): EDITOR,
    ("GET", "/dashboard/links/check"): VIEWER,
    ("GET", "/dashboard/links/{link_id:int}"): VIEWER,
    ("GET", "/dashboard/links/{link_id:int}/edit"): EDITOR,
    ("POST", "/dashboard/links/{link_id:int}/edit"): EDITOR,
    ("POST", "/dashboard/links/{link_id:int}/archive"): EDITOR,
    ("POST", "/dashboard/links/{link_id:int}/unarchive"): EDITOR,
    ("GET", "/dashboard/links/{link_id:int}/event"): EDITOR,
    ("POST", "/dashboard/links/{link_id:int}/event"): EDITOR,
    ("POST", "/dashboard/links/{link_id:int}/event/retire"): EDITOR,
    ("POST", "/dashboard/links/{link_id:int}/event/off"): EDITOR,
    ("GET", "/dashboard/sites"): ADMIN,
    ("POST", "/dashboard/sites"): ADMIN,
    ("GET", "/dashboard/sites/{site_id:int}/edit"): ADMIN,
    ("POST", "/dashboard/sites/{site_id:int}/edit"): ADMIN,
    ("GET", "/dashboard/sites/{site_id:int}/status"): ADMIN,
    ("POST", "/dashboard/links/{link_id:int}/variants/{variant:int}/promote"): EDITOR,
    ("GET", "/dashboard/links/{link_id:int}/qr"): VIEWER,
    ("GET", "/dashboard/links/{link_id:int}/qr/check"): VIEWER,
    ("POST", "/dashboard/links/{link_id:int}/logo"): EDITOR,
    ("POST", "/dashboard/links/{link_id:int}/placements"): EDITOR,
    ("GET", "/dashboard/links/{link_id:int}/placements.zip"): ANALYST,
    ("GET", "/dashboard/reports"): VIEWER,
    ("GET", "/dashboard/reports/{name}.csv"): ANALYST,
    ("GET", "/dashboard/reports/{name}"): VIEWER,
    ("GET", "/dashboard/attribution"): VIEWER,
    ("GET", "/dashboard/attribution.csv"): ANALYST,
    ("GET", "/dashboard/paths"): VIEWER,
    ("GET", "/dashboard/paths.csv"): ANALYST,
    ("GET", "/dashboard/customers"): VIEWER,
    ("GET", "/dashboard/customers.csv"): ANALYST,
    ("GET", "/dashboard/budget"): VIEWER,
    ("GET", "/dashboard/costs"): VIEWER,
    ("POST", "/dashboard/costs"): EDITOR,
    ("GET", "/dashboard/deals"): VIEWER,
    ("POST", "/dashboard/deals"): EDITOR,
    ("GET", "/dashboard/conversions"): VIEWER,
    ("POST", "/dashboard/goals"): EDITOR,
    ("GET", "/dashboard/numbers"): VIEWER,
    ("POST", "/dashboard/numbers"): EDITOR,
    ("POST", "/dashboard/numbers/{number_id:int}/release"): EDITOR,
    ("POST", "/dashboard/pools"): EDITOR,
    ("GET", "/dashboard/calls"): VIEWER,
    ("GET", "/dashboard/destinations"): ADMIN,
    ("POST", "/dashboard/destinations"): ADMIN,
    ("GET", "/dashboard/destinations/new"): ADMIN,
    ("GET", "/dashboard/destinations/oauth/callback"): ADMIN,
    ("GET", "/dashboard/destinations/{destination_id:int}"): ADMIN,
    ("POST", "/dashboard/destinations/{destination_id:int}"): ADMIN,
    ("POST", "/dashboard/destinations/{destination_id:int}/enabled"): ADMIN,
    ("POST", "/dashboard/destinations/{destination_id:int}/test"): ADMIN,
    ("POST", "/dashboard/destinations/{destination_id:int}/connect"): ADMIN,
    ("GET", "/dashboard/web"): VIEWER,
    ("GET", "/dashboard/web/{site_id}"): VIEWER,
    ("GET", "/dashboard/channels"): VIEWER,
    ("POST", "/dashboard/channels/rules"): ADMIN,
    ("POST", "/dashboard/channels/rules/{rule_id:int}/delete"): ADMIN,
    ("GET", "/dashboard/privacy"): ADMIN,
    ("POST", "/dashboard/privacy"): ADMIN,
    ("GET", "/dashboard/audit"): ADMIN,
    ("GET", "/dashboard/forwarding"): VIEWER,
    ("GET", "/dashboard/alerts"): VIEWER,
    ("POST", "/dashboard/forwarding/outbox/{outbox_id:int}/replay"): ADMIN,
    ("GET", "/dashboard/webhooks"): ADMIN,
    ("POST", "/dashboard/webhooks"): ADMIN,
    ("POST", "/dashboard/webhooks/{webhook_id:int}/test"): ADMIN,
    ("POST", "/dashboard/webhooks/{webhook_id:int}/rotate"): ADMIN,
    ("POST", "/dashboard/webhooks/{webhook_id:int}/replay"): ADMIN,
    ("POST", "/dashboard/webhooks/{webhook_id:int}/remove"): ADMIN,
    ("GET", "/dashboard/links/import"): EDITOR,
    ("POST", "/dashboard/links/import"): EDITOR,
    ("GET", "/dashboard/users"): ADMIN,
    ("POST", "/dashboard/users/invite"): ADMIN,
    ("POST", "/dashboard/users/invitations/{invitation_id:int}/cancel"): ADMIN,
    ("POST", "/dashboard/users/{username}/role"): ADMIN,
    ("POST", "/dashboard/users/{username}/disable"): ADMIN,
    ("POST", "/dashboard/users/{username}/enable"): ADMIN,
    ("GET", "/dashboard/users/{username}/remove"): ADMIN,
    ("POST", "/dashboard/users/{username}/remove"): ADMIN,
    ("GET", "/dashboard/{rest:path}"): VIEWER,
}  # fmt: skip

# The documented scope policy (domain/roles.py must agree).
SCOPE_POLICY = {
    "reports:read": ANALYST,
    "links:read": ANALYST,
    "links:write": EDITOR,
    "costs:write": EDITOR,
    "goals:write": EDITOR,
    "events:write": EDITOR,
    "admin": ADMIN,
}
PUBLIC_PAGES = {
    "/dashboard/login",
    "/dashboard/login/oidc",
    "/dashboard/login/oidc/callback",
    "/dashboard/join/{token}",
}
NOT_PAGES = {"/dashboard/"}  # a redirect to /dashboard, no page of its own


def _filled(path: str) -> str:
    """A path template with a value in each parameter: ids no row has, names no user has."""
    return re.sub(
        r"{(\w+)(?::(\w+))?}",
        lambda m: "999999" if m.group(2) == "int" or m.group(1).endswith("_id") else "nobody",
        path,
    )


def test_every_scope_and_every_page_has_a_role_rule() -> None:
    assert set(SCOPE_ROLES) == set(SCOPES)
    assert SCOPE_ROLES == SCOPE_POLICY
    for op in operations(api.routes):
        assert op.scope is None or op.scope in SCOPE_ROLES, f"{op.path}: {op.scope} has no role"
    for route in dashboard.routes:
        path = getattr(route, "path", "")
        if path in NOT_PAGES:
            continue
        assert hasattr(route.endpoint, "role"), f"{path} names no role"  # type: ignore[attr-defined]
        if route.endpoint.role is None:  # type: ignore[attr-defined]
            assert path in PUBLIC_PAGES, f"{path} is open to anyone"


@pytest.fixture
async def users(store: Store) -> dict[str, str]:
    """A user of every role, each holding a key made with every scope (as if made while an
    admin, then moved down): what the key may do is the role's alone."""
    keys = {}
    hashed = hash_password(PASSWORD)
    for role in ROLES:
        user_id = await store.insert_user(role, hashed, role)
        shown, key = new_key(("admin",), name=role, user_id=user_id)
        await store.insert_api_key(key)
        keys[role] = shown
    return keys


async def test_api_routes_answer_each_role_by_the_rules(app: Any, users: dict[str, str]) -> None:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
    wrong: list[str] = []
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        for op in operations(api.routes):
            if op.scope is None:
                continue
            for role, key in users.items():
                answer = await http.request(
                    op.method,
                    _filled(op.path),
                    json={} if op.method in {"POST", "PATCH", "PUT"} else None,
                    headers={"authorization": f"Bearer {key}"},
                )
                allowed = at_least(role, SCOPE_POLICY[op.scope])
                if (answer.status_code == 403) == allowed or answer.status_code == 401:
                    wrong.append(f"{role} {op.method} {op.path}: {answer.status_code}")
    assert not wrong, "\n".join(wrong)


async def _browser(app: Any, role: str) -> httpx.AsyncClient:
    http = await make_client(app, ("203.0.113.10", 4000))
    assert (await log_in(http, role)).status_code == 303
    return http


def _denied(answer: httpx.Response) -> bool:
    return answer.status_code == 403 and DENIED in answer.text


async def test_dashboard_pages_answer_each_role_by_the_rules(
    app: Any, users: dict[str, str]
) -> None:
    wrong: list[str] = []
    for role in ROLES:
        http = await _browser(app, role)
        try:
            for route in dashboard.routes:
                path = getattr(route, "path", "")
                if path in NOT_PAGES or path in PUBLIC_PAGES:
                    continue
                for method in sorted(getattr(route, "methods", set()) - {"HEAD"}):
                    least = PAGES.get((method, path))
                    if least is None:
                        wrong.append(f"{method} {path} has no rule in PAGES")
                        continue
                    if method == "POST":
                        csrf = csrf_of((await http.get("/dashboard/account")).text)
                        answer = await http.post(_filled(path), data={"csrf": csrf})
                    else:
                        answer = await http.get(_filled(path))
                    if _denied(answer) == at_least(role, least):
                        wrong.append(f"{role} {method} {path}: {answer.status_code}")
                    if (await http.get("/dashboard/account")).status_code != 200:
                        await http.aclose()  # the page logged this browser out: log in again
                        http = await _browser(app, role)
        finally:
            await http.aclose()
    assert not wrong, "\n".join(wrong)


async def test_the_navigation_shows_each_role_only_what_it_may_open(
    app: Any, users: dict[str, str]
) -> None:
    viewer, admin = await _browser(app, "viewer"), await _browser(app, "admin")
    try:
        seen_by_viewer = (await viewer.get("/dashboard")).text
        seen_by_admin = (await admin.get("/dashboard")).text
    finally:
        await viewer.aclose()
        await admin.aclose()
    for href in ("/dashboard/users", "/dashboard/destinations", "/dashboard/keys"):
        assert f'href="{href}"' not in seen_by_viewer
        assert f'href="{href}"' in seen_by_admin
    assert 'href="/dashboard/links"' in seen_by_viewer


async def test_exports_show_only_to_roles_that_may_download_them(
    app: Any, users: dict[str, str]
) -> None:
    viewer, analyst = await _browser(app, "viewer"), await _browser(app, "analyst")
    try:
        for page in ("/dashboard/reports", "/dashboard/attribution", "/dashboard/customers"):
            assert "Download CSV" not in (await viewer.get(page)).text
            assert "Download CSV" in (await analyst.get(page)).text
    finally:
        await viewer.aclose()
        await analyst.aclose()


async def test_forms_show_only_to_roles_that_may_send_them(app: Any, users: dict[str, str]) -> None:
    forms = {
        "/dashboard/links": 'href="/dashboard/links/new"',
        "/dashboard/numbers": 'method="post" action="/dashboard/numbers"',
        "/dashboard/costs": 'method="post" action="/dashboard/costs"',
        "/dashboard/conversions": 'method="post" action="/dashboard/goals"',
        "/dashboard/deals": 'method="post" action="/dashboard/deals"',
    }
    viewer, editor = await _browser(app, "viewer"), await _browser(app, "editor")
    try:
        for page, form in forms.items():
            assert form not in (await viewer.get(page)).text, page
            assert form in (await editor.get(page)).text, page
        assert (
            'action="/dashboard/channels/rules"'
            not in (await editor.get("/dashboard/channels")).text
        )
    finally:
        await viewer.aclose()
        await editor.aclose()
