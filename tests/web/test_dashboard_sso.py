"""Single sign-on with OpenID Connect, against a fake provider (tests/oidcprovider.py): who
gets in, and that every answer which cannot be trusted ends in an error page and no session."""

from __future__ import annotations

import dataclasses
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc.jwk import RSAKey

from dashtools import PASSWORD, make_client
from firstmark.config import Settings
from firstmark.domain.passwords import hash_password
from firstmark.services.oidc import Provider
from firstmark.store import Store
from oidcprovider import CLIENT_ID, CLIENT_SECRET, ISSUER, FakeProvider


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        oidc_issuer=ISSUER,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
    )


@pytest.fixture
def idp(app: Any, settings: Settings) -> FakeProvider:
    """The provider, and the app's client talking to it."""
    fake = FakeProvider()
    transport = httpx.ASGITransport(app=fake.app)
    app.state.runtime.dashboard.oidc = Provider(settings, transport=transport)
    return fake


@pytest.fixture
async def browser(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with await make_client(app) as http:
        yield http


async def go_to_provider(http: httpx.AsyncClient, idp: FakeProvider, next_url: str = "") -> str:
    """Start at the login page's link; the callback URL the provider sends the browser to."""
    query = f"?next={next_url}" if next_url else ""
    leave = await http.get(f"/dashboard/login/oidc{query}")
    assert leave.status_code == 303
    assert leave.headers["location"].startswith(f"{ISSUER}/authorize?")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=idp.app)) as at_idp:
        back = await at_idp.get(leave.headers["location"])
    assert back.status_code == 302, back.text
    return back.headers["location"]


async def sign_in(http: httpx.AsyncClient, idp: FakeProvider, next_url: str = "") -> httpx.Response:
    return await http.get(await go_to_provider(http, idp, next_url))


async def signed_in_as(http: httpx.AsyncClient) -> str | None:
    """Whose dashboard the browser sees (None: sent to the login page)."""
    page = await http.get("/dashboard")
    if page.status_code == 303:
        assert page.headers["location"].startswith("/dashboard/login")
        return None
    assert page.status_code == 200
    found = [name for name in ("ada", "newcomer") if f'title="Your account">{name}<' in page.text]
    return found[0] if found else ""


async def test_the_login_page_offers_the_provider(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/dashboard/login?next=/dashboard/links")
    assert "Sign in with idp.test" in page.text
    assert 'href="/dashboard/login/oidc?next=/dashboard/links"' in page.text


async def test_a_known_user_signs_in_and_lands_where_they_were_going(
    store: Store, idp: FakeProvider, browser: httpx.AsyncClient
) -> None:
    await store.insert_user("ada", hash_password(PASSWORD), "editor")
    leave = await browser.get("/dashboard/login/oidc?next=/dashboard/links")
    cookie = leave.headers["set-cookie"]
    assert "fm_oidc=" in cookie and "Path=/dashboard" in cookie and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie and "Domain" not in cookie
    asked = parse_qs(urlsplit(leave.headers["location"]).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["nonce"][0]
    assert asked["redirect_uri"] == ["http://fm.test/dashboard/login/oidc/callback"]

    back = await sign_in(browser, idp, "/dashboard/links")
    assert back.status_code == 303 and back.headers["location"] == "/dashboard/links"
    assert await signed_in_as(browser) == "ada"
    assert (await browser.get("/dashboard/links")).status_code == 200


async def test_next_never_leaves_the_dashboard(
    store: Store, idp: FakeProvider, browser: httpx.AsyncClient
) -> None:
    await store.insert_user("ada", hash_password(PASSWORD), "viewer")
    back = await sign_in(browser, idp, "https://evil.example/")
    assert back.headers["location"] == "/dashboard"


async def test_an_unknown_user_is_refused_unless_new_users_are_let_in(
    app: Any, settings: Settings, store: Store, idp: FakeProvider, browser: httpx.AsyncClient
) -> None:
    idp.claims = {"sub": "u-2", "preferred_username": "newcomer"}
    refused = await sign_in(browser, idp)
    assert refused.status_code == 403
    assert "Ask an admin of this install to add or invite you" in refused.text
    assert await signed_in_as(browser) is None
    assert await store.user_by_name("newcomer") is None

    app.state.runtime = dataclasses.replace(
        app.state.runtime, settings=dataclasses.replace(settings, oidc_new_users="viewer")
    )
    assert (await sign_in(browser, idp)).status_code == 303
    assert await signed_in_as(browser) == "newcomer"
    made = await store.user_by_name("newcomer")
    assert made is not None and made.role == "viewer"
    assert (await browser.get("/dashboard/users")).status_code == 403


async def test_a_disabled_user_is_refused(
    store: Store, idp: FakeProvider, browser: httpx.AsyncClient
) -> None:
    user_id = await store.insert_user("ada", hash_password(PASSWORD), "admin")
    await store.set_user_disabled(user_id, True, 0.0)
    answer = await sign_in(browser, idp)
    assert answer.status_code == 403 and "This account is disabled" in answer.text
    assert await signed_in_as(browser) is None


async def test_an_unverified_email_names_nobody(
    store: Store, idp: FakeProvider, browser: httpx.AsyncClient
) -> None:
    await store.insert_user("ada@example.com", hash_password(PASSWORD), "admin")
    idp.claims = {"sub": "u-3", "email": "ada@example.com", "email_verified": False}
    answer = await sign_in(browser, idp)
    assert answer.status_code == 403 and "not verified" in answer.text
    assert await signed_in_as(browser) is None


async def test_an_answer_with_another_state_is_refused(
    app: Any, store: Store, idp: FakeProvider, browser: httpx.AsyncClient
) -> None:
    await store.insert_user("ada", hash_password(PASSWORD), "admin")
    callback = await go_to_provider(browser, idp)
    forged = callback.replace("state=", "state=x")
    answer = await browser.get(forged)
    assert answer.status_code == 400
    assert "does not belong to the sign-in this browser started" in answer.text
    assert await signed_in_as(browser) is None
    # An answer in a browser that never started a sign-in (a planted link) is refused too.
    async with await make_client(app) as other:
        planted = await other.get(callback)
        assert planted.status_code == 400 and await signed_in_as(other) is None


async def test_a_replayed_code_is_refused(
    app: Any, store: Store, idp: FakeProvider, browser: httpx.AsyncClient
) -> None:
    await store.insert_user("ada", hash_password(PASSWORD), "admin")
    callback = await go_to_provider(browser, idp)
    pending = browser.cookies["fm_oidc"]
    assert (await browser.get(callback)).status_code == 303
    async with await make_client(app) as thief:
        thief.cookies.set("fm_oidc", pending, domain="fm.test", path="/dashboard")
        answer = await thief.get(callback)
        assert answer.status_code == 400 and "did not accept this sign-in" in answer.text
        assert idp.refused == ["invalid_grant"]
        assert await signed_in_as(thief) is None


@pytest.mark.parametrize("spoil", ["signature", "audience", "expired", "nonce"])
async def test_an_id_token_that_cannot_be_trusted_is_refused(
    spoil: str,
    store: Store,
    idp: FakeProvider,
    browser: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await store.insert_user("ada", hash_password(PASSWORD), "admin")
    if spoil == "signature":
        idp.signing_key = RSAKey.generate_key(2048)
    elif spoil == "audience":
        idp.audience = "another-client"
    elif spoil == "expired":
        idp.lifetime = -3600
    else:
        idp.nonce = "a-nonce-from-another-sign-in"
    callback = await go_to_provider(browser, idp)
    with caplog.at_level(logging.WARNING, logger="firstmark.dashboard"):
        answer = await browser.get(callback)
    assert answer.status_code == 401
    assert "could not be verified" in answer.text
    assert await signed_in_as(browser) is None
    code = parse_qs(urlsplit(callback).query)["code"][0]
    assert "single sign-on failed: ID token refused" in caplog.text and code not in caplog.text


async def test_a_provider_that_does_not_answer_is_a_bad_gateway_page(
    app: Any, settings: Settings, browser: httpx.AsyncClient
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = dataclasses.replace(settings, oidc_issuer=f"http://127.0.0.1:{port}")
    app.state.runtime.dashboard.oidc = Provider(down)
    answer = await browser.get("/dashboard/login/oidc")
    assert answer.status_code == 502 and "could not be reached" in answer.text


async def test_a_discovery_document_of_another_issuer_is_refused(
    idp: FakeProvider, browser: httpx.AsyncClient
) -> None:
    idp.discovered_issuer = "https://impostor.test"
    answer = await browser.get("/dashboard/login/oidc")
    assert answer.status_code == 502 and "names another issuer" in answer.text


async def test_without_an_issuer_there_is_no_single_sign_on(
    app: Any, browser: httpx.AsyncClient
) -> None:
    app.state.runtime.dashboard.oidc = None
    assert "Sign in with" not in (await browser.get("/dashboard/login")).text
    assert (await browser.get("/dashboard/login/oidc")).status_code == 404
    assert (await browser.get("/dashboard/login/oidc/callback?code=x&state=y")).status_code == 404
