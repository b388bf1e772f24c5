"""The dashboard through its HTTP handlers: login, sessions, CSRF, and what each page shows."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from agents import DESKTOP, IPHONE
from dashtools import PASSWORD, csrf_of, error_for, log_in, make_client
from firstmark.app import create_app
from firstmark.config import Settings
from firstmark.domain.links import Link
from firstmark.domain.passwords import hash_password
from firstmark.store import LinkQuery, Store
from firstmark.web.throttle import login_throttle


@pytest.fixture
async def user(store: Store) -> int:
    return await store.insert_user("admin", hash_password(PASSWORD), "owner")


@pytest.fixture
async def dash(app: Any, user: int) -> AsyncIterator[httpx.AsyncClient]:
    """A browser logged in as the admin."""
    async with await make_client(app) as http:
        answer = await log_in(http)
        assert answer.status_code == 303, answer.text
        yield http


@pytest.fixture
async def stranger(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with await make_client(app) as http:
        yield http


async def token(http: httpx.AsyncClient, path: str = "/dashboard/links/new") -> str:
    return csrf_of((await http.get(path)).text)


# --- login, sessions --------------------------------------------------------------------------

PAGES = [
    "/dashboard",
    "/dashboard/campaigns",
    "/dashboard/channels",
    "/dashboard/links",
    "/dashboard/links/new",
    "/dashboard/links/1",
    "/dashboard/links/1/edit",
    "/dashboard/links/check?utm_source=x",
    "/dashboard/keys",
    "/dashboard/settings",
    "/dashboard/account",
]


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_needs_a_login(stranger: httpx.AsyncClient, path: str) -> None:
    answer = await stranger.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/dashboard/login?next=/dashboard")


@pytest.mark.parametrize(
    "path",
    ["/dashboard/links/new", "/dashboard/keys", "/dashboard/logout", "/dashboard/links/1/archive"],
)
async def test_posts_without_a_login_go_to_the_login_form(
    stranger: httpx.AsyncClient, store: Store, path: str
) -> None:
    answer = await stranger.post(path, data={"destination": "https://a.example/", "scope": "admin"})
    assert answer.status_code == 303 and "/dashboard/login" in answer.headers["location"]
    assert await store.count_links() == 0 and await store.list_api_keys() == []


async def test_login_then_back_where_you_were(app: Any, user: int) -> None:
    async with await make_client(app) as http:
        first = await http.get("/dashboard/keys")
        form = await http.get(first.headers["location"])
        assert 'value="/dashboard/keys"' in form.text
        answer = await http.post(
            "/dashboard/login",
            data={"csrf": csrf_of(form.text), "username": "admin", "password": PASSWORD,
                  "next": "/dashboard/keys"},
        )  # fmt: skip
        assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/keys"
        assert (await http.get("/dashboard/keys")).status_code == 200


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/dashboard", "/elsewhere", "/\\evil.example"]
)
async def test_login_never_sends_you_off_the_dashboard(app: Any, user: int, target: str) -> None:
    async with await make_client(app) as http:
        form = await http.get("/dashboard/login")
        answer = await http.post(
            "/dashboard/login",
            data={"csrf": csrf_of(form.text), "username": "admin", "password": PASSWORD,
                  "next": target},
        )  # fmt: skip
        assert answer.headers["location"] == "/dashboard"


@pytest.mark.parametrize(("username", "password"), [("admin", "wrong"), ("nobody", PASSWORD)])
async def test_wrong_login_is_refused(
    stranger: httpx.AsyncClient, user: int, username: str, password: str
) -> None:
    form = await stranger.get("/dashboard/login")
    answer = await stranger.post(
        "/dashboard/login",
        data={"csrf": csrf_of(form.text), "username": username, "password": password},
    )
    assert answer.status_code == 401
    assert "Wrong username or password." in answer.text
    assert 'aria-describedby="login-error"' in answer.text
    assert (await stranger.get("/dashboard")).status_code == 303  # still not logged in


async def test_session_cookie_attributes(app: Any, user: int) -> None:
    async with await make_client(app) as http:
        answer = await log_in(http)
    cookie = answer.headers["set-cookie"]
    parts = {p.strip().split("=")[0].lower() for p in cookie.split(";")}
    assert cookie.startswith("fm_session=")
    assert {"httponly", "path", "samesite", "max-age"} <= parts
    assert "Path=/dashboard" in cookie and "samesite=lax" in cookie.lower()
    assert "domain" not in parts and "secure" not in parts  # BASE_URL is http here


async def test_session_cookie_is_secure_behind_https(settings: Settings, store: Store) -> None:
    await store.insert_user("admin", hash_password(PASSWORD), "owner")
    app = create_app(replace(settings, base_url="https://fm.test"), store)
    async with await make_client(app, base_url="https://fm.test") as http:
        answer = await log_in(http)
    assert answer.status_code == 303
    assert "secure" in answer.headers["set-cookie"].lower()


async def test_a_forged_or_expired_session_is_no_session(
    app: Any, dash: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from itsdangerous import TimestampSigner

    sessions = app.state.runtime.dashboard.sessions
    good = dash.cookies["fm_session"]
    async with await make_client(app) as other:
        other.cookies.set("fm_session", good[:-2] + ("AA" if good[-2:] != "AA" else "BB"))
        assert (await other.get("/dashboard")).status_code == 303
        expired_at = int(time.time()) - sessions.max_age_s - 5
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: expired_at)
        stale = sessions._cookie.dumps({"n": "x", "u": 1, "name": "admin"})
        monkeypatch.undo()
        other.cookies.set("fm_session", stale)
        assert (await other.get("/dashboard")).status_code == 303
        # A signed, fresh cookie that names no session on the server opens nothing either.
        fresh = sessions._cookie.dumps({"n": "x", "u": 1, "name": "admin"})
        other.cookies.set("fm_session", fresh)
        assert (await other.get("/dashboard")).status_code == 303
        other.cookies.set("fm_session", good)
        assert (await other.get("/dashboard")).status_code == 200


async def test_logout_ends_the_session(dash: httpx.AsyncClient) -> None:
    answer = await dash.post("/dashboard/logout", data={"csrf": await token(dash, "/dashboard")})
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/login"
    assert (
        'fm_session=""' in answer.headers["set-cookie"]
        or "Max-Age=0" in answer.headers["set-cookie"]
    )
    assert (await dash.get("/dashboard")).status_code == 303
    assert "You are logged out." in (await dash.get("/dashboard/login")).text


async def test_login_is_throttled_per_account_and_never_logs_it(
    app: Any, user: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # A stopped clock: the first wait (1 s) must not run out on a slow machine.
    app.state.runtime.dashboard.throttle = login_throttle(clock=lambda: 1000.0)
    async with await make_client(app, ("198.51.100.9", 1000)) as http:
        form = await http.get("/dashboard/login")
        csrf = csrf_of(form.text)
        for _ in range(5):
            wrong = {"csrf": csrf, "username": "admin", "password": "nope"}
            assert (await http.post("/dashboard/login", data=wrong)).status_code == 401
        right = {"csrf": csrf, "username": "admin", "password": PASSWORD}
        blocked = await http.post("/dashboard/login", data=right)
        assert blocked.status_code == 429 and "Too many failed attempts" in blocked.text
        assert (await http.get("/dashboard")).status_code == 303
    async with await make_client(app, ("192.0.2.10", 1000)) as other:
        assert (await log_in(other)).status_code == 429  # the account waits, from anywhere
    assert "198.51.100.9" not in caplog.text


# --- CSRF -----------------------------------------------------------------------------------


async def _link(store: Store, code: str = "keep", **fields: Any) -> Link:
    return await store.insert_link(Link(destination="https://a.example/", code=code, **fields))


@pytest.mark.parametrize("bad", ["missing", "wrong", "other-session"])
@pytest.mark.parametrize("action", ["create", "edit", "archive", "key", "revoke", "logout"])
async def test_csrf_missing_or_wrong_is_403_and_changes_nothing(
    app: Any, dash: httpx.AsyncClient, store: Store, bad: str, action: str
) -> None:
    link = await _link(store)
    shown = await dash.post(
        "/dashboard/keys", data={"csrf": await token(dash), "scope": "links:read"}
    )
    assert shown.status_code == 200
    [key] = await store.list_api_keys()
    forms = {
        "create": ("/dashboard/links/new", {"destination": "https://b.example/"}),
        "edit": (f"/dashboard/links/{link.id}/edit",
                 {"destination": "https://b.example/", "code": "keep", "version": "1"}),
        "archive": (f"/dashboard/links/{link.id}/archive", {"confirm": "yes"}),
        "key": ("/dashboard/keys", {"scope": "admin"}),
        "revoke": (f"/dashboard/keys/{key.prefix}/revoke", {"confirm": "yes"}),
        "logout": ("/dashboard/logout", {}),
    }  # fmt: skip
    path, data = forms[action]
    if bad == "wrong":
        data = {**data, "csrf": "not-a-token"}
    elif bad == "other-session":
        async with await make_client(app) as other:
            data = {**data, "csrf": csrf_of((await other.get("/dashboard/login")).text)}
    answer = await dash.post(path, data=data)
    assert answer.status_code == 403
    assert "Nothing was changed" in answer.text
    assert await store.count_links() == 1
    assert await store.get_link(link.id or 0) == link
    assert [k.revoked for k in await store.list_api_keys()] == [False]
    assert (await dash.get("/dashboard")).status_code == 200  # still logged in


async def test_login_form_needs_its_csrf_token(stranger: httpx.AsyncClient, user: int) -> None:
    await stranger.get("/dashboard/login")
    answer = await stranger.post(
        "/dashboard/login", data={"username": "admin", "password": PASSWORD}
    )
    assert answer.status_code == 403
    assert (await stranger.get("/dashboard")).status_code == 303


# --- links ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("destination", "javascript:alert(1)", "http or https"),
        ("destination", "", "destination is required"),
        ("code", "api", "reserved word"),
        ("code", "has space", "letters, digits"),
        ("max_hits", "ten", "whole number"),
        ("expires_at", "tomorrow", "ISO 8601"),
        ("fallback_url", "ftp://a.example/", "http or https"),
    ],
)
async def test_a_bad_field_is_shown_next_to_it_and_nothing_is_stored(
    dash: httpx.AsyncClient, store: Store, field: str, value: str, message: str
) -> None:
    data = {"destination": "https://shop.example/", "utm_source": "Newsletter", field: value}
    answer = await dash.post("/dashboard/links/new", data={"csrf": await token(dash), **data})
    assert answer.status_code == 422
    shown = error_for(answer.text, field)
    assert shown is not None and message in shown
    assert f'<a href="#f-{field}">' in answer.text  # the summary links to the field
    assert 'value="Newsletter"' in answer.text  # what was typed is kept
    assert await store.count_links() == 0


async def test_create_a_link_with_the_utm_builder(dash: httpx.AsyncClient, store: Store) -> None:
    data = {
        "destination": "https://shop.example/spring?ref=home#top",
        "code": "spring",
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "Spring Sale",
        "campaign": "spring",
        "tags": "print, Spring",
        "redirect_status": "302",
        "click_token": "on",
        "noindex": "on",
    }
    answer = await dash.post("/dashboard/links/new", data={"csrf": await token(dash), **data})
    assert answer.status_code == 303
    [saved], _ = await store.list_links(LinkQuery({}))
    assert (saved.code, saved.utm_campaign, saved.tags) == (
        "spring",
        "spring-sale",
        ("print", "spring"),
    )
    assert saved.click_token and saved.noindex and not saved.forward_query
    # The campaign name was normalised: the edit page shows that, next to the field.
    assert answer.headers["location"] == f"/dashboard/links/{saved.id}/edit"
    page = (await dash.get(answer.headers["location"])).text
    assert "Created http://fm.test/spring" in page
    assert "&#39;Spring Sale&#39; was stored as &#39;spring-sale&#39;" in page
    assert re.search(r'id="f-utm_campaign"[^>]*aria-describedby="[^"]*warn-utm_campaign', page)
    final = "https://shop.example/spring?ref=home&amp;utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=spring-sale#top"
    assert final in page
    detail = (await dash.get(f"/dashboard/links/{saved.id}")).text
    assert final in detail and "http://fm.test/q/spring" in detail


async def test_a_clean_link_goes_straight_to_its_page(
    dash: httpx.AsyncClient, store: Store
) -> None:
    data = {"destination": "https://shop.example/", "utm_source": "google", "utm_medium": "cpc"}
    answer = await dash.post("/dashboard/links/new", data={"csrf": await token(dash), **data})
    link = await store.link_by_code("", (await store.list_links(_all()))[0][0].code)
    assert link is not None and answer.headers["location"] == f"/dashboard/links/{link.id}"


def _all() -> LinkQuery:
    return LinkQuery({}, archived=None)


async def test_edit_a_link(app: Any, dash: httpx.AsyncClient, store: Store) -> None:
    link = await _link(store, "edit-me", utm_source="google", tags=("a",))
    await _link(store, "taken")
    page = (await dash.get(f"/dashboard/links/{link.id}/edit")).text
    assert 'value="edit-me"' in page and 'value="google"' in page and 'value="a"' in page
    form = {"csrf": csrf_of(page), "destination": "https://b.example/new", "code": "edit-me",
            "utm_source": "", "tags": "", "version": "1", "click_token": "on"}  # fmt: skip
    answer = await dash.post(f"/dashboard/links/{link.id}/edit", data=form)
    assert answer.status_code == 303
    saved = await store.get_link(link.id or 0)
    assert saved is not None
    assert (saved.destination, saved.utm_source, saved.tags, saved.version) == (
        "https://b.example/new", None, (), 2,
    )  # fmt: skip
    stale = await dash.post(f"/dashboard/links/{link.id}/edit", data={**form, "code": "x"})
    assert stale.status_code == 422 and "changed elsewhere" in stale.text
    taken = await dash.post(
        f"/dashboard/links/{link.id}/edit", data={**form, "version": "2", "code": "taken"}
    )
    assert taken.status_code == 422
    assert "already taken" in (error_for(taken.text, "code") or "")
    assert await store.get_link(link.id or 0) == saved


async def test_archive_a_link(app: Any, dash: httpx.AsyncClient, store: Store) -> None:
    link = await _link(store, "old")
    page = await dash.get(f"/dashboard/links/{link.id}")
    answer = await dash.post(
        f"/dashboard/links/{link.id}/archive", data={"csrf": csrf_of(page.text), "confirm": "yes"}
    )
    assert answer.status_code == 303
    archived = await store.get_link(link.id or 0)
    assert archived is not None and archived.archived
    assert "Archived old" in (await dash.get(answer.headers["location"])).text
    assert (await dash.get("/old")).status_code == 410


@pytest.mark.parametrize("path", ["/dashboard/links/999", "/dashboard/nothing/here"])
async def test_unknown_pages_are_404_pages(dash: httpx.AsyncClient, path: str) -> None:
    answer = await dash.get(path)
    assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]
    assert "<h1>Not found</h1>" in answer.text


async def test_link_list_search_filters_and_pages(dash: httpx.AsyncClient, store: Store) -> None:
    for i in range(30):
        await _link(store, f"l{i:02d}", utm_source="google" if i % 2 else "bing")
    await _link(store, "gone", archived=True)
    first = (await dash.get("/dashboard/links")).text
    assert "30 links" in first and "Page 1 of 2" in first and "/gone" not in first
    second = (await dash.get("/dashboard/links", params={"page": 2})).text
    assert second.count('<th scope="row"><a href="/dashboard/links/') == 5
    google = (await dash.get("/dashboard/links", params={"utm_source": "google"})).text
    assert "15 links" in google
    found = (await dash.get("/dashboard/links", params={"q": "l2"})).text
    assert "10 links" in found
    archived = (await dash.get("/dashboard/links", params={"archived": "true"})).text
    assert "1 link<" in archived and "/gone" in archived


async def test_live_utm_check(dash: httpx.AsyncClient) -> None:
    answer = await dash.get("/dashboard/links/check", params={"utm_source": "Linkedln"})
    assert answer.status_code == 200
    warnings = answer.json()["warnings"]
    assert "linkedin" in {w["suggestion"] for w in warnings}
    assert "'Linkedln' will be stored as 'linkedln'" in {w["message"] for w in warnings}


# --- stats pages ----------------------------------------------------------------------------


async def visit(app: Any, path: str, peer: str, ua: str) -> None:
    async with await make_client(app, (peer, 4000)) as http:
        assert (await http.get(path, headers={"user-agent": ua})).status_code == 302


def kpi(page: str, name: str) -> str:
    found = re.search(rf'data-kpi="{name}">([^<]*)<', page)
    assert found, name
    return found.group(1).strip()


async def test_overview_channels_and_link_page_count_clicks(
    app: Any, dash: httpx.AsyncClient, store: Store
) -> None:
    link = await _link(store, "promo", utm_source="newsletter", campaign="winter")
    before = (await dash.get("/dashboard")).text
    assert kpi(before, "clicks") == "0" and kpi(before, "links") == "1"
    await visit(app, "/promo", "8.8.8.8", IPHONE)
    await visit(app, "/promo", "8.8.4.4", DESKTOP)
    await visit(app, "/q/promo", "85.214.132.117", DESKTOP)
    await visit(app, "/promo", "8.8.4.4", "facebookexternalhit/1.1")
    await app.state.runtime.writer.drain()

    page = (await dash.get("/dashboard")).text
    assert (kpi(page, "clicks"), kpi(page, "scans"), kpi(page, "uniques")) == ("2", "1", "3")
    assert "3 <small>/ 1</small>" in page and "bot share 25.00 %" in page
    assert '<svg class="chart"' in page

    channels = (await dash.get("/dashboard/campaigns", params={"by": "utm_source"})).text
    row = re.search(r'utm_source=newsletter">newsletter</a></th>(.*?)</tr>', channels, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(1))
    assert cells[:6] == ["1", "2", "1", "3", "1", "25.00"]
    campaigns = (await dash.get("/dashboard/campaigns", params={"by": "campaign"})).text
    assert 'campaign=winter">winter</a>' in campaigns

    detail = (await dash.get(f"/dashboard/links/{link.id}")).text
    assert kpi(detail, "clicks") == "2" and kpi(detail, "scans") == "1"
    assert '<svg class="heatmap"' in detail and detail.count('<rect class="cell') == 168
    assert '<th scope="row">US</th>' in detail and '<th scope="row">DE</th>' in detail


async def test_an_empty_install_shows_dashes_not_zero_ratios(dash: httpx.AsyncClient) -> None:
    page = (await dash.get("/dashboard")).text
    assert "bot share —" in page


@pytest.mark.parametrize(
    ("params", "field"),
    [({"from": "yesterday"}, "from"), ({"from": "2026-02-01", "to": "2026-01-01"}, "from")],
)
async def test_a_bad_date_range_is_shown_next_to_its_field(
    dash: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    answer = await dash.get("/dashboard", params=params)
    assert answer.status_code == 200
    assert f'id="range-err-{field}"' in answer.text
    assert re.search(rf'id="range-{field}"[^>]*aria-invalid="true"', answer.text)


# --- keys and settings ----------------------------------------------------------------------


async def test_api_keys_create_once_and_revoke(app: Any, dash: httpx.AsyncClient) -> None:
    page = await dash.get("/dashboard/keys")
    answer = await dash.post(
        "/dashboard/keys",
        data={"csrf": csrf_of(page.text), "name": "shop backend", "scope": ["links:read"]},
    )
    assert answer.status_code == 200
    shown = re.search(r'id="new-key" class="key" readonly value="(fm_[^"]+)"', answer.text)
    assert shown is not None
    key = shown.group(1)
    api = {"authorization": f"Bearer {key}"}
    assert (await dash.get("/api/v1/links", headers=api)).status_code == 200
    assert (await dash.post("/api/v1/links", headers=api, json={})).status_code == 403
    listing = (await dash.get("/dashboard/keys")).text
    assert key not in listing and "shop backend" in listing  # shown once, never again
    prefix = key.split("_")[1]
    asked = await dash.post(f"/dashboard/keys/{prefix}/revoke", data={"csrf": csrf_of(listing)})
    assert asked.status_code == 200 and "Revoke this key?" in asked.text
    assert (await dash.get("/api/v1/links", headers=api)).status_code == 200  # not yet
    revoked = await dash.post(
        f"/dashboard/keys/{prefix}/revoke", data={"csrf": csrf_of(listing), "confirm": "yes"}
    )
    assert revoked.status_code == 303
    assert f"Revoked fm_{prefix}_" in (await dash.get("/dashboard/keys")).text
    assert (await dash.get("/api/v1/links", headers=api)).status_code == 401


async def test_a_key_needs_a_scope(dash: httpx.AsyncClient, store: Store) -> None:
    answer = await dash.post("/dashboard/keys", data={"csrf": await token(dash), "name": "x"})
    assert answer.status_code == 422 and 'id="err-scope"' in answer.text
    assert await store.list_api_keys() == []


async def test_settings_show_no_secret(settings: Settings, dash: httpx.AsyncClient) -> None:
    page = (await dash.get("/dashboard/settings")).text
    assert settings.base_url in page and "FIRSTMARK_SESSION_HOURS" in page
    assert settings.secret_key not in page and "SECRET" not in page


def test_database_credentials_are_hidden() -> None:
    from firstmark.web.dashboard.pages import _database

    shown = _database("postgresql://fm:hunter2@db.internal:5432/firstmark")
    assert shown == "postgresql://db.internal:5432/firstmark"


async def test_pages_are_not_cached_framed_or_scripted_from_elsewhere(
    dash: httpx.AsyncClient,
) -> None:
    answer = await dash.get("/dashboard")
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-frame-options"] == "DENY"
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
