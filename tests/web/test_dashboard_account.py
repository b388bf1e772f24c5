"""Sessions live on the server: logout, a password change and "sign out everywhere" end them at
once; logins are throttled per network and per account; `next=` stays on the dashboard."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from dashtools import CLIENT, PASSWORD, csrf_of, error_for, log_in, make_client
from firstmark.domain.passwords import check_password, hash_password
from firstmark.store import Store
from firstmark.web.throttle import login_throttle

NEW_PASSWORD = "a much longer passphrase"


@pytest.fixture
async def user(store: Store) -> int:
    return await store.insert_user("admin", hash_password(PASSWORD), "owner")


@contextlib.asynccontextmanager
async def _browser(app: Any, address: str = CLIENT[0]) -> AsyncIterator[httpx.AsyncClient]:
    """A browser logged in as the admin from `address`."""
    async with await make_client(app, (address, 1234)) as http:
        answer = await log_in(http)
        assert answer.status_code == 303, answer.text
        yield http


@pytest.fixture(autouse=True)
def frozen_throttle(app: Any) -> None:
    """The login throttle on a stopped clock: the counts below do not depend on test speed."""
    app.state.runtime.dashboard.throttle = login_throttle(clock=lambda: 1000.0)


async def _csrf(http: httpx.AsyncClient) -> str:
    return csrf_of((await http.get("/dashboard/account")).text)


async def test_a_logged_out_cookie_opens_nothing(app: Any, user: int) -> None:
    async with _browser(app) as http:
        cookie = http.cookies["fm_session"]
        logout = await http.post("/dashboard/logout", data={"csrf": await _csrf(http)})
        assert logout.status_code == 303
    async with await make_client(app) as replay:
        replay.cookies.set("fm_session", cookie, domain="fm.test", path="/dashboard")
        answer = await replay.get("/dashboard")
        assert answer.status_code == 303 and "/dashboard/login" in answer.headers["location"]


async def test_the_signed_cookie_alone_is_no_session(app: Any, user: int) -> None:
    sessions = app.state.runtime.dashboard.sessions
    async with await make_client(app) as http:
        for forged in ({"n": "x", "u": user, "name": "admin"}, {"n": "x", "s": "made-up"}):
            http.cookies.set("fm_session", sessions._cookie.dumps(forged))
            assert (await http.get("/dashboard")).status_code == 303


async def test_changing_the_password_ends_the_other_sessions(
    app: Any, user: int, store: Store
) -> None:
    async with _browser(app, "198.51.100.20") as other, _browser(app) as http:
        assert (await other.get("/dashboard")).status_code == 200
        form = {"csrf": await _csrf(http), "current": PASSWORD, "password": NEW_PASSWORD,
                "repeat": NEW_PASSWORD}  # fmt: skip
        answer = await http.post("/dashboard/account", data=form)
        assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/account"
        shown = await http.get("/dashboard/account")  # this browser stays logged in
        assert shown.status_code == 200 and "Your password is changed" in shown.text
        assert (await other.get("/dashboard")).status_code == 303  # the other one is out
    stored = await store.user_by_name("admin")
    assert stored is not None and check_password(NEW_PASSWORD, stored.password_hash)
    async with await make_client(app, ("192.0.2.50", 1)) as fresh:
        assert (await log_in(fresh)).status_code == 401  # the old password no longer works


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"current": "wrong one", "password": NEW_PASSWORD, "repeat": NEW_PASSWORD}, "current",
         "not your current password"),
        ({"current": PASSWORD, "password": NEW_PASSWORD, "repeat": NEW_PASSWORD + "x"}, "repeat",
         "differ"),
        ({"current": PASSWORD, "password": "short", "repeat": "short"}, "password",
         "at least 10 characters"),
    ],
)  # fmt: skip
async def test_a_refused_change_names_its_field_and_changes_nothing(
    app: Any, user: int, store: Store, form: dict[str, str], field: str, message: str
) -> None:
    async with _browser(app) as http:
        answer = await http.post("/dashboard/account", data={"csrf": await _csrf(http), **form})
        assert answer.status_code == 422
        shown = error_for(answer.text, field)
        assert shown is not None and message in shown
        assert (await http.get("/dashboard")).status_code == 200
    stored = await store.user_by_name("admin")
    assert stored is not None and check_password(PASSWORD, stored.password_hash)


async def test_a_change_needs_the_csrf_token(app: Any, user: int, store: Store) -> None:
    async with _browser(app) as http:
        form = {"current": PASSWORD, "password": NEW_PASSWORD, "repeat": NEW_PASSWORD}
        assert (await http.post("/dashboard/account", data=form)).status_code == 403
    stored = await store.user_by_name("admin")
    assert stored is not None and check_password(PASSWORD, stored.password_hash)


async def test_sign_out_everywhere_ends_every_session(app: Any, user: int) -> None:
    async with _browser(app, "198.51.100.21") as other, _browser(app) as http:
        answer = await http.post(
            "/dashboard/account/sign-out-everywhere", data={"csrf": await _csrf(http)}
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/login"
        assert (await http.get("/dashboard")).status_code == 303
        assert "2 session(s) ended" in (await http.get("/dashboard/login")).text
        assert (await other.get("/dashboard")).status_code == 303


async def _guess(app: Any, address: str, username: str, password: str = "nope") -> int:
    async with await make_client(app, (address, 1000)) as http:
        form = await http.get("/dashboard/login")
        answer = await http.post(
            "/dashboard/login",
            data={"csrf": csrf_of(form.text), "username": username, "password": password},
        )
        return answer.status_code


async def test_200_guesses_from_one_ipv6_64_are_slowed(
    app: Any, user: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answers = []
    for i in range(200):
        # A new address of one /64 each time, and a new account name, as a sprayer would.
        answers.append(await _guess(app, f"2001:db8:aa:bb::{i + 1:x}", f"user{i}"))
    assert answers.count(401) == 10  # the network's free failures; then it must wait
    assert answers.count(429) == 190
    # Even the right password waits, from anywhere in the /56.
    assert await _guess(app, "2001:db8:aa:cc::1", "admin", PASSWORD) == 429
    assert await _guess(app, "2001:db8:ab::1", "admin", PASSWORD) == 303  # another network
    assert "2001:db8" not in caplog.text


async def test_guesses_at_one_account_from_many_networks_are_slowed(app: Any, user: int) -> None:
    answers = [await _guess(app, f"198.51.{i}.7", "admin") for i in range(30)]
    assert answers.count(401) == 5 and answers.count(429) == 25
    assert await _guess(app, "192.0.2.99", "admin", PASSWORD) == 429
    assert await _guess(app, "192.0.2.99", "Admin") == 429  # the name's case does not matter


async def test_a_throttled_login_says_when_to_come_back(app: Any, user: int) -> None:
    for i in range(5):
        assert await _guess(app, f"198.51.{i}.7", "admin") == 401
    async with await make_client(app, ("192.0.2.5", 1)) as http:
        form = await http.get("/dashboard/login")
        answer = await http.post(
            "/dashboard/login",
            data={"csrf": csrf_of(form.text), "username": "admin", "password": PASSWORD},
        )
    assert answer.status_code == 429 and "Too many failed attempts" in answer.text
    assert int(answer.headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    "target",
    [
        "/dashboardx", "/dashboard/../api/v1/links", "/dashboard/%2e%2e/api/v1/links",
        "/dashboard/..%2fapi", "/dashboard/\t/evil.example", "/dashboard\\..\\api",
        "javascript:alert(1)", "/dashboard/./../x",
    ],
)  # fmt: skip
async def test_login_next_stays_under_the_dashboard(app: Any, user: int, target: str) -> None:
    async with await make_client(app) as http:
        form = await http.get("/dashboard/login")
        answer = await http.post(
            "/dashboard/login",
            data={"csrf": csrf_of(form.text), "username": "admin", "password": PASSWORD,
                  "next": target},
        )  # fmt: skip
        assert answer.status_code == 303 and answer.headers["location"] == "/dashboard"
