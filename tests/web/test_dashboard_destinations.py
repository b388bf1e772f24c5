"""Destinations in the dashboard, through its HTTP handlers with sessions and CSRF: add, edit
with write-only credentials, goal mapping, enable/disable, test, and Connect for Google
(authorisation code + PKCE S256) against a fake Google on loopback."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from conftest import BASE_URL
from fakeoauth import CLIENT_ID, CLIENT_SECRET, FakeGoogle
from firstmark.config import Settings
from firstmark.domain.goals import Goal
from firstmark.domain.oauth import Urls
from firstmark.domain.passwords import hash_password
from firstmark.store import Store

PASSWORD = "correct horse battery"
SECRET_TOKEN = "EAAB-dashboard-secret-555"
ADS = {"ad_user_data": "granted", "ad_personalization": "granted", "analytics_storage": "granted"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The fake platforms listen on loopback: this server lets destinations point there."""
    return replace(settings, destination_allow_private=True)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF field on the page"
    return found.group(1)


def flash_of(page: str) -> str:
    found = re.findall(r'<p class="flash[^"]*" role="(?:status|alert)">(.*?)</p>', page, re.S)
    return html.unescape(" ".join(found))


async def browser(app: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


@pytest.fixture
async def dash(app: Any, store: Store) -> AsyncIterator[httpx.AsyncClient]:
    await store.insert_user("admin", hash_password(PASSWORD), "owner")
    await store.insert_goal(Goal(name="purchase"))
    async with await browser(app) as http:
        form = await http.get("/dashboard/login")
        answer = await http.post(
            "/dashboard/login",
            data={"csrf": csrf_of(form.text), "username": "admin", "password": PASSWORD},
        )
        assert answer.status_code == 303
        yield http


async def post(http: httpx.AsyncClient, url: str, page: str, **data: str) -> httpx.Response:
    token = csrf_of((await http.get(page)).text)
    return await http.post(url, data={"csrf": token, **data})


async def test_add_edit_toggle_and_test_a_destination(
    dash: httpx.AsyncClient, store: Store
) -> None:
    page = await dash.get("/dashboard/destinations")
    assert page.status_code == 200 and "Add a destination" in page.text
    assert 'href="/dashboard/destinations"' in page.text  # in the navigation
    form = await dash.get("/dashboard/destinations/new", params={"platform": "meta"})
    assert 'name="cred.access_token"' in form.text and 'name="goal.purchase"' in form.text
    added = await post(
        dash, "/dashboard/destinations", "/dashboard/destinations/new?platform=meta",
        platform="meta", name="Meta shop", **{"cred.pixel_id": "4242",
        "cred.access_token": SECRET_TOKEN, "goal.purchase": "Purchase"},
    )  # fmt: skip
    assert added.status_code == 303, added.text
    url = added.headers["location"]
    [dest] = await store.list_destinations()
    assert dest.goals == {"purchase": "Purchase"} and dest.enabled
    edit = await dash.get(url)
    assert SECRET_TOKEN not in edit.text and "Meta shop" in flash_of(edit.text)
    assert 'access_token (required) <span class="muted">— set</span>' in edit.text
    # A blank credential keeps what is stored; an option and a new mapping are saved.
    saved = await post(
        dash, url, url, name="Meta shop", enabled="on",
        **{"goal.purchase": "Lead", "option.test_event_code": "TEST9"},
    )  # fmt: skip
    assert saved.status_code == 303
    dest = (await store.list_destinations())[0]
    assert dest.goals == {"purchase": "Lead"} and dest.options == {"test_event_code": "TEST9"}
    assert dest.credential_fields == ("access_token", "pixel_id")
    # A bad value is shown next to its field, nothing changes.
    bad = await post(dash, url, url, name="", enabled="on")
    assert bad.status_code == 422 and "name must be" in html.unescape(bad.text)
    off = await post(dash, f"{url}/enabled", url, enabled="false")
    assert off.status_code == 303 and not (await store.list_destinations())[0].enabled
    # The test button: Meta with its test code set, the platform unreachable → not "sent".
    tested = await post(dash, f"{url}/test", url)
    shown = flash_of((await dash.get(tested.headers["location"])).text)
    assert "not sent" in shown and "sent." not in shown
    # Without CSRF nothing happens.
    forged = await dash.post(f"{url}/enabled", data={"enabled": "true"})
    assert forged.status_code == 403 and not (await store.list_destinations())[0].enabled


async def test_a_test_without_a_test_code_is_refused_in_the_dashboard(
    dash: httpx.AsyncClient, store: Store
) -> None:
    added = await post(
        dash, "/dashboard/destinations", "/dashboard/destinations/new?platform=tiktok",
        platform="tiktok", name="tt", **{"cred.pixel_code": "C1", "cred.access_token": "t",
        "goal.purchase": "CompletePayment"},
    )  # fmt: skip
    url = added.headers["location"]
    tested = await post(dash, f"{url}/test", url)
    shown = flash_of((await dash.get(tested.headers["location"])).text)
    assert "Not tested" in shown and "options.test_event_code" in shown


@pytest.fixture
async def google(app: Any) -> AsyncIterator[FakeGoogle]:
    with FakeGoogle(time.time) as fake:
        tokens = app.state.runtime.forwarder.tokens
        tokens.urls = Urls(google_token=fake.token_url, google_auth=f"{fake.url}/auth")
        yield fake
        await app.state.runtime.forwarder.client.aclose()  # its connections to the fake


async def test_connect_google_with_pkce_and_forward_through_the_new_grant(
    dash: httpx.AsyncClient, store: Store, google: FakeGoogle, app: Any, client: httpx.AsyncClient
) -> None:
    added = await post(
        dash, "/dashboard/destinations", "/dashboard/destinations/new?platform=google_ads",
        platform="google_ads", name="Google",
        endpoint_base=google.url,
        **{"cred.operating_account_id": "123-456-7890", "cred.client_id": CLIENT_ID,
           "cred.client_secret": CLIENT_SECRET, "goal.purchase": "555"},
    )  # fmt: skip
    assert added.status_code == 303, added.text
    url = added.headers["location"]
    page = await dash.get(url)
    assert "Needs re-authorisation" in page.text and "Connect with Google Ads" in page.text
    # Browsers hold Connect's redirect to the page's form-action: it names Google, only it.
    policy = page.headers["content-security-policy"]
    assert f"form-action 'self' {google.url};" in policy
    started = await post(dash, f"{url}/connect", url)
    assert started.status_code == 303
    where = urlsplit(started.headers["location"])
    assert f"{where.scheme}://{where.netloc}{where.path}" == f"{google.url}/auth"
    query = {k: v[0] for k, v in parse_qs(where.query).items()}
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{BASE_URL}/dashboard/destinations/oauth/callback"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["access_type"] == "offline" and query["prompt"] == "consent"
    assert query["scope"] == "https://www.googleapis.com/auth/datamanager"
    # The user grants access at Google; Google sends the browser back with a code.
    google.codes["code-abc"] = query["code_challenge"]
    callback = "/dashboard/destinations/oauth/callback"
    # A callback with another state (a forged link) changes nothing.
    forged = await dash.get(callback, params={"code": "code-abc", "state": "other"})
    assert "did not belong" in flash_of((await dash.get(forged.headers["location"])).text)
    # A browser that did not start the flow cannot finish it, even with the right state.
    async with await browser(app) as other:
        form = await other.get("/dashboard/login")
        await other.post("/dashboard/login", data={"csrf": csrf_of(form.text),
                         "username": "admin", "password": PASSWORD})  # fmt: skip
        stolen = await other.get(callback, params={"code": "code-abc", "state": query["state"]})
        assert "did not belong" in flash_of((await other.get(stolen.headers["location"])).text)
    back = await dash.get(callback, params={"code": "code-abc", "state": query["state"]})
    assert back.status_code == 303 and back.headers["location"] == url
    assert "Google connected" in flash_of((await dash.get(url)).text)
    [grant] = [g for g in google.grants if g["grant_type"] == "authorization_code"]
    verifier = grant["code_verifier"]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert (
        digest.decode() == query["code_challenge"]
        and grant["redirect_uri"] == query["redirect_uri"]
    )
    [dest] = await store.list_destinations()
    assert dest.auth_status == "ok" and "refresh_token" in dest.credential_fields
    # The same code cannot be used twice (replayed callback): refused by the endpoint.
    assert google.codes == {}
    # Conversions now go out with access tokens minted from the new refresh token.
    answer = await client.post(
        "/api/v1/conversions", json={"event_id": "c-1", "goal": "purchase", "consent": ADS}
    )
    assert answer.status_code in (200, 201, 202), answer.text
    await app.state.runtime.forwarder.drain()
    assert google.accepted == ["c-1"]
