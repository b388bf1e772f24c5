"""A team on one install, as its people use it: an admin invites a colleague by link, the
colleague joins with the invitation's role, makes a key within it; the admin changes roles,
disables and removes users, and the colleague's sessions and keys follow at once."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from dashtools import PASSWORD, csrf_of, error_for, log_in, make_client
from firstmark.domain.passwords import hash_password
from firstmark.store import Store
from firstmark.web.dashboard.views import DENIED

NEW = "a colleague's passphrase"


async def _invite(admin: httpx.AsyncClient, role: str) -> str:
    page = await admin.get("/dashboard/users")
    answer = await admin.post(
        "/dashboard/users/invite", data={"csrf": csrf_of(page.text), "role": role}
    )
    assert answer.status_code == 201, answer.text
    found = re.search(r'id="invite-link" class="key" readonly value="([^"]+)"', answer.text)
    assert found, "no invitation link on the page"
    return html.unescape(found.group(1))


async def _join(app: Any, link: str, username: str) -> httpx.AsyncClient:
    http = await make_client(app, ("198.51.100.30", 1))
    path = link.split("fm.test", 1)[-1] if "fm.test" in link else "/" + link.split("/", 3)[3]
    form = await http.get(path)
    assert form.status_code == 200 and "Join this firstmark" in form.text
    answer = await http.post(
        path,
        data={"csrf": csrf_of(form.text), "username": username, "password": NEW, "repeat": NEW},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard", answer.text
    return http


async def _post(http: httpx.AsyncClient, path: str, **data: str) -> httpx.Response:
    csrf = csrf_of((await http.get("/dashboard/account")).text)
    return await http.post(path, data={"csrf": csrf, **data})


async def test_an_invited_analyst_joins_and_stays_within_the_role(
    app: Any, dash: httpx.AsyncClient, store: Store
) -> None:
    link = await _invite(dash, "analyst")
    carol = await _join(app, link, "carol")
    try:
        assert (await carol.get("/dashboard")).status_code == 200
        denied = await carol.get("/dashboard/users")
        assert denied.status_code == 403 and DENIED in denied.text and "analyst" in denied.text
        keys_page = await carol.get("/dashboard/keys")
        assert 'value="reports:read"' in keys_page.text and 'value="admin"' not in keys_page.text
        refused = await _post(carol, "/dashboard/keys", name="ci", scope="links:write")
        assert refused.status_code == 422 and "analyst cannot hold links:write" in refused.text
        made = await _post(carol, "/dashboard/keys", name="ci", scope="reports:read")
        shown = re.search(r'id="new-key" class="key" readonly value="([^"]+)"', made.text)
        assert made.status_code == 200 and shown
        key = {"authorization": f"Bearer {shown.group(1)}"}
        assert (await carol.get("/api/v1/links", headers=key)).status_code == 403
        assert (await carol.get("/api/v1/goals", headers=key)).status_code == 200
        # The invitation was for one person.
        again = await make_client(app, ("198.51.100.31", 1))
        async with again:
            path = "/" + link.split("/", 3)[3]
            form = await again.get(path)
            answer = await again.post(
                path,
                data={"csrf": csrf_of(form.text), "username": "dave", "password": NEW,
                      "repeat": NEW},
            )  # fmt: skip
            assert answer.status_code == 422 and "unknown, used or expired" in answer.text
        assert await store.user_by_name("dave") is None

        # Disabled: out at once, the key stops, and the password no longer signs in.
        assert (await _post(dash, "/dashboard/users/carol/disable")).status_code == 303
        assert (await carol.get("/dashboard")).status_code == 303
        assert (await carol.get("/api/v1/goals", headers=key)).status_code == 401
        async with await make_client(app, ("198.51.100.32", 1)) as fresh:
            form = await fresh.get("/dashboard/login")
            answer = await fresh.post(
                "/dashboard/login",
                data={"csrf": csrf_of(form.text), "username": "carol", "password": NEW},
            )
            assert answer.status_code == 403 and "disabled" in answer.text

        # Enabled and made an editor: the same key may now do what the key's scopes allow.
        assert (await _post(dash, "/dashboard/users/carol/enable")).status_code == 303
        assert (await _post(dash, "/dashboard/users/carol/role", role="editor")).status_code == 303
        assert (await carol.get("/api/v1/goals", headers=key)).status_code == 200
        user = await store.user_by_name("carol")
        assert user is not None and user.role == "editor" and not user.disabled
    finally:
        await carol.aclose()


async def test_removing_asks_first_then_revokes(app: Any, dash: httpx.AsyncClient) -> None:
    carol = await _join(app, await _invite(dash, "editor"), "carol")
    try:
        made = await _post(carol, "/dashboard/keys", name="ci", scope="links:read")
        shown = re.search(r'id="new-key" class="key" readonly value="([^"]+)"', made.text)
        assert shown
        key = {"authorization": f"Bearer {shown.group(1)}"}
        confirm = await dash.get("/dashboard/users/carol/remove")
        assert confirm.status_code == 200 and "Remove carol?" in confirm.text
        assert (await carol.get("/api/v1/links", headers=key)).status_code == 200  # not yet
        answer = await _post(dash, "/dashboard/users/carol/remove")
        assert answer.status_code == 303
        assert (await carol.get("/api/v1/links", headers=key)).status_code == 401
        assert (await carol.get("/dashboard")).status_code == 303
    finally:
        await carol.aclose()
    page = await dash.get("/dashboard/users")
    assert "Removed carol." in page.text and ">carol<" not in page.text


async def test_admins_cannot_reach_above_themselves(
    app: Any, dash: httpx.AsyncClient, store: Store
) -> None:
    await store.insert_user("ann", hash_password(PASSWORD), "admin")
    async with await make_client(app, ("198.51.100.40", 1)) as ann:
        assert (await log_in(ann, "ann")).status_code == 303
        page = await ann.get("/dashboard/users")
        assert page.status_code == 200
        assert '<option value="owner"' not in page.text  # neither to invite nor to give
        answer = await ann.post(
            "/dashboard/users/invite", data={"csrf": csrf_of(page.text), "role": "owner"}
        )
        assert answer.status_code == 403 and "admin cannot make a user owner" in answer.text
        for path, data in (
            ("/dashboard/users/admin/disable", {}),
            ("/dashboard/users/admin/role", {"role": "viewer"}),
            ("/dashboard/users/ann/role", {"role": "owner"}),
        ):
            await _post(ann, path, **data)
        shown = await ann.get("/dashboard/users")
        assert "cannot change" in shown.text or "cannot change your own" in shown.text
    admin, ann_user = await store.user_by_name("admin"), await store.user_by_name("ann")
    assert admin is not None and admin.role == "owner" and not admin.disabled
    assert ann_user is not None and ann_user.role == "admin"


async def test_join_page_checks_its_fields(app: Any, dash: httpx.AsyncClient) -> None:
    link = await _invite(dash, "viewer")
    async with await make_client(app, ("198.51.100.50", 1)) as http:
        path = "/" + link.split("/", 3)[3]
        form = await http.get(path)
        bad = {"csrf": csrf_of(form.text), "username": "no spaces", "password": NEW,
               "repeat": NEW}  # fmt: skip
        answer = await http.post(path, data=bad)
        assert answer.status_code == 422
        assert "letters, digits" in (error_for(answer.text, "username") or "")
        short = {**bad, "username": "erin", "password": "short", "repeat": "short"}
        answer = await http.post(path, data=short)
        assert answer.status_code == 422 and error_for(answer.text, "password")
        taken = {**bad, "username": "admin"}
        answer = await http.post(path, data=taken)
        assert answer.status_code == 422 and "exists already" in answer.text
