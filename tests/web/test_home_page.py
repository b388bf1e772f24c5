"""`GET /`: on the server's own address, a page leading to the dashboard and the API docs; on a
short-link domain, the bare root stays as it was."""

from __future__ import annotations

import httpx

from firstmark.store import Domain, Store


async def test_the_servers_own_address_leads_to_the_dashboard_and_the_docs(
    anon: httpx.AsyncClient,
) -> None:
    r = await anon.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert 'href="/dashboard"' in r.text and 'href="/api/v1/docs"' in r.text
    assert "<script" not in r.text
    # The headers of the other public pages (the 404 page's, say).
    missing = await anon.get("/nothing-here")
    for name in ("content-security-policy", "x-frame-options", "x-content-type-options"):
        assert r.headers[name] == missing.headers[name]
    assert r.headers["x-robots-tag"] == "noindex"
    assert (await anon.head("/")).status_code == 200


async def test_a_short_link_domain_keeps_its_bare_root(
    anon: httpx.AsyncClient, store: Store
) -> None:
    await store.upsert_domain(Domain("go.brand.example", "https://brand.example/"))
    for host in ("go.brand.example", "other.example"):
        r = await anon.get("/", headers={"host": host})
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/json"
        assert "dashboard" not in r.text
