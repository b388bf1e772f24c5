"""The redirect path as a visitor meets it: where a click goes, what it answers, what is kept."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from agents import DESKTOP, IPHONE
from firstmark.app import create_app
from firstmark.config import Settings
from firstmark.domain.clicks import ClickSigner
from firstmark.store import Domain, Store


async def make(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"destination": "https://shop.example/p?ref=home#buy", **fields}
    r = await client.post("/api/v1/links", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    path = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


async def test_click_redirects_with_utm_and_signed_token(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, settings: Settings
) -> None:
    link = await make(client, code="spring", utm_source="newsletter", utm_medium="email")
    r = await anon.get("/spring", headers={"user-agent": DESKTOP})
    assert r.status_code == 302
    assert r.headers["cache-control"] == "private, no-store"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert r.headers["x-robots-tag"] == "noindex"
    where = urlsplit(r.headers["location"])
    assert (where.scheme, where.netloc, where.path, where.fragment) == (
        "https",
        "shop.example",
        "/p",
        "buy",
    )
    params = dict(parse_qsl(where.query))
    assert params["ref"] == "home"
    assert params["utm_source"] == "newsletter" and params["utm_medium"] == "email"
    click = ClickSigner(settings.secret_key).verify(params["fm_click"])
    assert click is not None and click.link_id == link["id"]
    assert ClickSigner("another-secret").verify(params["fm_click"]) is None
    second = await anon.get("/spring")
    assert (
        dict(parse_qsl(urlsplit(second.headers["location"]).query))["fm_click"]
        != params["fm_click"]
    )


async def test_scan_path_counts_as_scan_and_head_is_not_counted(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, app: Any, settings: Settings
) -> None:
    await make(client, code="poster")
    assert (await anon.get("/poster", headers={"user-agent": IPHONE})).status_code == 302
    assert (await anon.get("/q/poster", headers={"user-agent": IPHONE})).status_code == 302
    assert (await anon.head("/poster")).status_code == 302
    await app.state.runtime.writer.drain()
    assert sorted(rows(settings, "SELECT kind FROM hit_details")) == [("click",), ("scan",)]


async def test_hits_keep_no_address_and_no_user_agent(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, app: Any, settings: Settings
) -> None:
    await make(client, code="private")
    await anon.get(
        "/private",
        headers={
            "user-agent": IPHONE,
            "referer": "https://news.example.org/story/123?user=alice",
            "accept-language": "nb-NO,nb;q=0.9,en;q=0.8",
        },
    )
    await app.state.runtime.writer.drain()
    (row,) = rows(settings, "SELECT * FROM hit_details")
    text = " ".join(str(v) for v in row)
    assert "203.0.113.7" not in text
    assert "Mozilla" not in text and "AppleWebKit" not in text
    assert "alice" not in text and "/story" not in text
    named = dict(
        zip([c[1] for c in rows(settings, "PRAGMA table_info(hit_details)")], row, strict=True)
    )
    assert named["device_type"] == "mobile"
    assert named["os"] == "iOS"
    assert named["referrer_host"] == "news.example.org"
    assert named["lang"] == "nb"
    assert named["is_bot"] == 0
    assert len(named["visitor_day_hash"]) == 24


async def test_bots_are_recorded_flagged(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, app: Any, settings: Settings
) -> None:
    await make(client, code="shared")
    await anon.get(
        "/shared",
        headers={"user-agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"},
    )
    await anon.get("/shared", headers={"user-agent": "curl/8.5.0"})
    await app.state.runtime.writer.drain()
    flagged = rows(settings, "SELECT is_bot, bot_reason FROM hit_details ORDER BY id")
    assert [f[0] for f in flagged] == [1, 1]
    assert flagged[0][1].startswith("preview:") and flagged[1][1].startswith("tool:")


async def test_unknown_code_is_a_small_404_page(anon: httpx.AsyncClient) -> None:
    r = await anon.get("/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "Link not found" in r.text
    assert "<script" not in r.text


async def test_unknown_code_goes_to_the_domain_fallback(
    anon: httpx.AsyncClient, store: Store
) -> None:
    await store.upsert_domain(Domain("fm.test", "https://brand.example/"))
    r = await anon.get("/nothing-here")
    assert r.status_code == 302
    assert r.headers["location"] == "https://brand.example/"


async def test_expired_link_uses_fallback_else_410(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await make(client, code="old", expires_at="2020-01-01T00:00:00Z")
    await make(
        client,
        code="oldfb",
        expires_at="2020-01-01T00:00:00Z",
        fallback_url="https://brand.example/over",
    )
    r = await anon.get("/old")
    assert r.status_code == 410 and "expired" in r.text
    r = await anon.get("/oldfb")
    assert r.status_code == 302 and r.headers["location"] == "https://brand.example/over"


async def test_not_yet_valid_link_is_not_found(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await make(client, code="soon", valid_from="2099-01-01T00:00:00Z")
    assert (await anon.get("/soon")).status_code == 404


async def test_max_hits_counts_humans_only(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await make(client, code="limited", max_hits=2)
    assert (
        await anon.get("/limited", headers={"user-agent": "WhatsApp/2.23.20.0"})
    ).status_code == 302
    assert (await anon.get("/limited", headers={"user-agent": IPHONE})).status_code == 302
    assert (await anon.get("/limited", headers={"user-agent": IPHONE})).status_code == 302
    r = await anon.get("/limited", headers={"user-agent": IPHONE})
    assert r.status_code == 410


async def test_password_form(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, app: Any, settings: Settings
) -> None:
    await make(client, code="secret", password="open sesame")
    form = await anon.get("/secret")
    assert form.status_code == 200 and 'type="password"' in form.text
    wrong = await anon.post("/secret", data={"password": "nope"})
    assert wrong.status_code == 403 and "not right" in wrong.text
    right = await anon.post("/secret", data={"password": "open sesame"})
    assert right.status_code == 302
    assert right.headers["location"].startswith("https://shop.example/p?ref=home")
    await app.state.runtime.writer.drain()
    assert rows(settings, "SELECT count(*) FROM hits") == [(1,)]


async def test_rules_pick_a_destination(client: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    await make(
        client,
        code="app",
        utm_source="print",
        rules=[
            {"device": "mobile", "os": "ios", "destination": "https://apps.example/ios"},
            {"language": "nb", "destination": "https://shop.example/no"},
            {"query": {"v": "b"}, "destination": "https://shop.example/b"},
        ],
    )
    ios = await anon.get("/app", headers={"user-agent": IPHONE})
    assert ios.headers["location"].startswith("https://apps.example/ios?utm_source=print&fm_click=")
    nb = await anon.get(
        "/app", headers={"user-agent": DESKTOP, "accept-language": "nb-NO,en;q=0.5"}
    )
    assert nb.headers["location"].startswith("https://shop.example/no?utm_source=print")
    b = await anon.get("/app?v=b", headers={"user-agent": DESKTOP})
    assert b.headers["location"].startswith("https://shop.example/b?")
    default = await anon.get("/app", headers={"user-agent": DESKTOP})
    assert default.headers["location"].startswith(
        "https://shop.example/p?ref=home&utm_source=print"
    )


async def test_country_rule_uses_forwarded_for_only_from_trusted_proxies(
    settings: Settings, store: Store, make_key: Any
) -> None:
    import ipaddress

    trusted = replace(settings, trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),))
    app = create_app(trusted, store)
    key = await make_key("admin")
    body = {
        "destination": "https://shop.example/",
        "code": "geo",
        "rules": [{"country": ["DE"], "destination": "https://shop.example/de"}],
    }
    germany = "85.214.132.117"  # a German address
    for peer, expected in (
        ("10.1.2.3", "https://shop.example/de"),
        ("198.51.100.9", "https://shop.example/?"),
    ):
        transport = httpx.ASGITransport(app=app, client=(peer, 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://fm.test") as http:
            await http.post("/api/v1/links", json=body, headers={"authorization": f"Bearer {key}"})
            r = await http.get("/geo", headers={"x-forwarded-for": f"{germany}, 10.9.9.9"})
            assert r.headers["location"].startswith(expected), peer


async def test_forward_query_never_overrides_utm_or_token(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await make(client, code="fwd", forward_query=True, utm_source="print")
    r = await anon.get(
        "/fwd?gclid=abc&utm_source=evil&UTM_Source=evil2&fm_click=forged&ref=ad&REF=ad2&x=1"
    )
    params = parse_qsl(urlsplit(r.headers["location"]).query)
    names = [k for k, _ in params]
    assert ("gclid", "abc") in params and ("x", "1") in params
    # The destination's own parameters win over the visitor's, whatever their case.
    assert [v for k, v in params if k.lower() == "ref"] == ["home"]
    assert [v for k, v in params if k.lower() == "utm_source"] == ["print"]
    assert names.count("fm_click") == 1 and dict(params)["fm_click"] != "forged"
    plain = await anon.get("/fwd?gclid=abc")
    assert "gclid" in plain.headers["location"]


async def test_forward_query_cannot_change_the_destinations_account(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await make(
        client,
        code="acct",
        forward_query=True,
        destination="https://pay.example/checkout?account=merchant-1&plan=pro",
    )
    r = await anon.get("/acct?account=attacker&Account=attacker2&PLAN=free&coupon=SPRING")
    params = parse_qsl(urlsplit(r.headers["location"]).query)
    assert [v for k, v in params if k.lower() == "account"] == ["merchant-1"]
    assert [v for k, v in params if k.lower() == "plan"] == ["pro"]
    assert ("coupon", "SPRING") in params


async def test_query_is_not_forwarded_by_default(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await make(client, code="nofwd")
    r = await anon.get("/nofwd?gclid=abc")
    assert "gclid" not in r.headers["location"]


async def test_click_token_can_be_turned_off(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    await make(client, code="notoken", click_token=False)
    assert "fm_click" not in (await anon.get("/notoken")).headers["location"]
    await make(client, code="token")
    app = create_app(replace(settings, click_tokens=False), store)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://fm.test"
    ) as http:
        assert "fm_click" not in (await http.get("/token")).headers["location"]


@pytest.mark.parametrize("status", [301, 307, 308])
async def test_redirect_status(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, status: int
) -> None:
    await make(client, code=f"s{status}", redirect_status=status)
    assert (await anon.get(f"/s{status}")).status_code == status


async def test_links_are_served_per_host(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await make(client, code="promo", destination="https://default.example/")
    await make(
        client, code="promo", domain="go.brand.example", destination="https://brand.example/"
    )
    await make(
        client, code="only", domain="go.brand.example", destination="https://brand.example/only"
    )
    assert (await anon.get("/promo")).headers["location"].startswith("https://default.example/")
    branded = await anon.get("http://go.brand.example/promo")
    assert branded.headers["location"].startswith("https://brand.example/")
    port = await anon.get("http://GO.brand.example:8080/only")
    assert port.headers["location"].startswith("https://brand.example/only")
    assert (await anon.get("/only")).status_code == 404


async def test_an_edit_shows_on_the_next_click(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    link = await make(client, code="edit")
    assert (await anon.get("/edit")).headers["location"].startswith("https://shop.example/p")
    await client.patch(f"/api/v1/links/{link['id']}", json={"destination": "https://new.example/"})
    assert (await anon.get("/edit")).headers["location"].startswith("https://new.example/")
    await client.patch(f"/api/v1/links/{link['id']}", json={"code": "edited"})
    assert (await anon.get("/edit")).status_code == 404
    assert (await anon.get("/edited")).status_code == 302


async def test_reserved_paths_are_not_codes(anon: httpx.AsyncClient) -> None:
    r = await anon.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    r = await anon.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"
    assert (await anon.get("/static/page.css")).status_code == 200


async def test_public_pages_carry_the_security_headers(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await make(client, code="gone", expires_at="2001-01-01T00:00:00Z")
    await make(client, code="locked", password="correct horse battery")
    pages = {
        404: await anon.get("/nosuchcode"),
        410: await anon.get("/gone"),
        200: await anon.get("/locked"),  # the password form
        403: await anon.post("/locked", data={"password": "wrong guess"}),
    }
    for status, page in pages.items():
        assert page.status_code == status, page.text
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, status
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "private, no-store"


async def test_the_404_page_repeats_a_bounded_host(anon: httpx.AsyncClient) -> None:
    host = "a" * 240 + ".example"  # under the 255-byte limit
    page = await anon.get("/nosuchcode", headers={"host": host})
    assert page.status_code == 404
    assert "a" * 64 + "…" in page.text and "a" * 65 not in page.text
