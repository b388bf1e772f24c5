"""The links REST API: create, read, list, update, archive, and every way to get it wrong."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from firstmark.store import Store

LINK = {
    "destination": "https://shop.example/spring?ref=home",
    "utm_source": "Newsletter",
    "utm_medium": "email",
    "utm_campaign": "Spring Sale",
    "campaign": "spring-2026",
    "tags": ["Print", "oslo"],
}


async def test_create_returns_the_link_with_short_url_and_warnings(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post("/api/v1/links", json=LINK)
    assert r.status_code == 201
    body = r.json()
    assert body["id"] > 0
    assert len(body["code"]) == 7 and body["code"].isalnum()
    assert body["short_url"] == f"http://fm.test/{body['code']}"
    assert body["qr_url"] == f"http://fm.test/q/{body['code']}"
    assert body["utm_source"] == "newsletter"
    assert body["utm_campaign"] == "spring-sale"
    assert body["tags"] == ["print", "oslo"]
    assert body["redirect_status"] == 302
    assert any(w["field"] == "utm_source" for w in body["warnings"])


async def test_custom_code_and_domain(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/links",
        json={"destination": "https://a.example/", "code": "Spring_26", "domain": "Go.Example.com"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["short_url"] == "http://go.example.com/Spring_26"
    # The same code on another domain is a different link.
    r2 = await client.post(
        "/api/v1/links", json={"destination": "https://b.example/", "code": "Spring_26"}
    )
    assert r2.status_code == 201


async def test_near_duplicate_medium_gets_a_suggestion(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/links", json={**LINK, "utm_medium": "e-mail"})
    warnings = {w["field"]: w for w in r.json()["warnings"]}
    assert warnings["utm_medium"]["suggestion"] == "email"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"destination": "javascript:alert(1)"}, "destination", "unsafe_scheme"),
        ({"destination": "JaVaScRiPt:alert(1)"}, "destination", "unsafe_scheme"),
        ({"destination": "java\tscript:alert(1)"}, "destination", None),
        (
            {"destination": "data:text/html,<script>alert(1)</script>"},
            "destination",
            "unsafe_scheme",
        ),
        ({"destination": "FILE:///etc/passwd"}, "destination", "unsafe_scheme"),
        ({"destination": "javascript%3Aalert(1)"}, "destination", "unsafe_scheme"),
        ({"destination": "https://user:pass@example.com/"}, "destination", "credentials_in_url"),
        ({"destination": "https://example.com/" + "a" * 2100}, "destination", "too_long"),
        ({"destination": "https://exa mple.com/"}, "destination", "invalid_url"),
        ({"destination": 42}, "destination", "invalid_type"),
        ({}, "destination", "required"),
        ({"destination": "https://a.example/", "code": "api"}, "code", "reserved_code"),
        ({"destination": "https://a.example/", "code": "Dashboard"}, "code", "reserved_code"),
        ({"destination": "https://a.example/", "code": "has space"}, "code", "invalid_code"),
        ({"destination": "https://a.example/", "colour": "red"}, "colour", "unknown_field"),
        ({"destination": "https://a.example/", "max_hits": "10"}, "max_hits", "invalid_type"),
        ({"destination": "https://a.example/", "max_hits": 0}, "max_hits", None),
        ({"destination": "https://a.example/", "redirect_status": 303}, "redirect_status", None),
        ({"destination": "https://a.example/", "tags": "print"}, "tags", "invalid_type"),
        ({"destination": "https://a.example/", "forward_query": "yes"}, "forward_query", None),
        ({"destination": "https://a.example/", "expires_at": "next week"}, "expires_at", None),
        (
            {
                "destination": "https://a.example/",
                "valid_from": "2027-01-02T00:00:00Z",
                "expires_at": "2027-01-01T00:00:00Z",
            },
            "expires_at",
            None,
        ),
        (
            {
                "destination": "https://a.example/",
                "rules": [{"device": "fridge", "destination": "https://b.example/"}],
            },
            "rules[0].device",
            None,
        ),
        (
            {
                "destination": "https://a.example/",
                "rules": [{"device": "mobile", "destination": "javascript:x"}],
            },
            "rules[0].destination",
            "unsafe_scheme",
        ),
        (
            {"destination": "https://a.example/", "fallback_url": "ftp://a.example/"},
            "fallback_url",
            None,
        ),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, store: Store, body: dict[str, Any], field: str, code: str | None
) -> None:
    r = await client.post("/api/v1/links", json=body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == field
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    assert await store.count_links() == 0


async def test_duplicate_code_is_a_conflict(client: httpx.AsyncClient, store: Store) -> None:
    first = await client.post(
        "/api/v1/links", json={"destination": "https://a.example/", "code": "dup"}
    )
    assert first.status_code == 201
    r = await client.post(
        "/api/v1/links", json={"destination": "https://b.example/", "code": "dup"}
    )
    assert r.status_code == 409
    assert r.json()["error"] == {
        "code": "code_taken",
        "message": "the code 'dup' is already taken",
        "field": "code",
    }
    assert await store.count_links() == 1
    kept = await client.get(f"/api/v1/links/{first.json()['id']}")
    assert kept.json()["destination"] == "https://a.example/"


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"{not json", 400, "invalid_body"),
        (b"", 400, "invalid_body"),
        (b"[1, 2]", 422, "invalid_type"),
        (
            b'{"destination": "https://a.example/", "campaign": "' + b"x" * 70_000 + b'"}',
            413,
            "body_too_large",
        ),
    ],
)
async def test_unreadable_bodies(
    client: httpx.AsyncClient, store: Store, content: bytes, status: int, code: str
) -> None:
    r = await client.post(
        "/api/v1/links", content=content, headers={"content-type": "application/json"}
    )
    assert r.status_code == status
    assert r.json()["error"]["code"] == code
    assert await store.count_links() == 0


async def test_get_update_and_archive(client: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    created = (await client.post("/api/v1/links", json=LINK)).json()
    link_id = created["id"]
    got = await client.get(f"/api/v1/links/{link_id}")
    assert got.json() == {k: v for k, v in created.items() if k != "warnings"}

    r = await client.patch(
        f"/api/v1/links/{link_id}",
        json={"destination": "https://shop.example/summer", "utm_campaign": None, "max_hits": 5},
    )
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["destination"] == "https://shop.example/summer"
    assert changed["utm_campaign"] is None
    assert changed["utm_source"] == "newsletter"  # untouched
    assert changed["max_hits"] == 5
    assert changed["version"] == created["version"] + 1

    bad = await client.patch(
        f"/api/v1/links/{link_id}", json={"destination": "javascript:alert(1)"}
    )
    assert bad.status_code == 422
    assert (await client.get(f"/api/v1/links/{link_id}")).json()[
        "destination"
    ] == "https://shop.example/summer"

    assert (await client.delete(f"/api/v1/links/{link_id}")).status_code == 204
    archived = (await client.get(f"/api/v1/links/{link_id}")).json()
    assert archived["archived"] is True
    gone = await anon.get(f"/{created['code']}")
    assert gone.status_code == 410


async def test_unknown_link_is_a_json_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/links/999")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = await client.patch("/api/v1/links/999", json={"campaign": "x"})
    assert r.status_code == 404


async def test_list_filters_and_pages(client: httpx.AsyncClient) -> None:
    for i in range(5):
        await client.post(
            "/api/v1/links",
            json={
                "destination": f"https://a.example/{i}",
                "code": f"c{i}",
                "utm_source": "google" if i % 2 else "facebook",
                "tags": ["even"] if i % 2 == 0 else [],
            },
        )
    everything = (await client.get("/api/v1/links")).json()
    assert everything["total"] == 5
    assert [link["code"] for link in everything["items"]] == ["c4", "c3", "c2", "c1", "c0"]
    google = (await client.get("/api/v1/links", params={"utm_source": "google"})).json()
    assert {link["code"] for link in google["items"]} == {"c1", "c3"}
    tagged = (await client.get("/api/v1/links", params={"tag": "even"})).json()
    assert tagged["total"] == 3
    page2 = (await client.get("/api/v1/links", params={"per_page": 2, "page": 2})).json()
    assert [link["code"] for link in page2["items"]] == ["c2", "c1"]
    found = (await client.get("/api/v1/links", params={"q": "a.example/3"})).json()
    assert [link["code"] for link in found["items"]] == ["c3"]
    bad = await client.get("/api/v1/links", params={"per_page": 0})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "per_page"
    unknown = await client.get("/api/v1/links", params={"colour": "red"})
    assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "colour"


async def test_password_is_never_returned(client: httpx.AsyncClient, store: Store) -> None:
    r = await client.post(
        "/api/v1/links", json={"destination": "https://a.example/", "password": "hunter2"}
    )
    body = r.json()
    assert body["has_password"] is True
    assert "hunter2" not in r.text
    link = await store.get_link(body["id"])
    assert link is not None and link.password_hash is not None
    assert "hunter2" not in link.password_hash
