"""A/B links through the app: a split set through the API, sticky variants on both redirect
paths, the per-variant report with its p-value, and promoting a winner."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from agents import DESKTOP
from firstmark.domain import audit
from firstmark.domain.abtest import z_test
from firstmark.domain.clicks import token_variant
from firstmark.store import Store

A, B = "https://shop.example/a", "https://shop.example/b"
CLIENT = ("203.0.113.7", 50000)  # the address the test clients click from
DATE = b"date: Thu, 03 Dec 2026 12:00:00 GMT\r\n"


def agent(visitor: int) -> str:
    """One visitor's browser: the daily visitor hash differs with the user agent."""
    return DESKTOP.replace("Chrome/124.0.0.0", f"Chrome/124.0.{visitor}.0")


def variant_of(location: str) -> tuple[int, int | None]:
    """(variant by destination path, the variant its click token names)."""
    where = urlsplit(location)
    token = dict(parse_qsl(where.query)).get("fm_click")
    return {"/a": 0, "/b": 1}[where.path], token_variant(token) if token else None


async def split_link(client: httpx.AsyncClient, code: str, weights: tuple[int, int]) -> int:
    body = {"code": code, "destination": A, "variants": [{"url": A, "weight": weights[0]},
                                       {"url": B, "weight": weights[1]}]}  # fmt: skip
    created = await client.post("/api/v1/links", json=body)
    assert created.status_code == 201, created.text
    link_id: int = created.json()["id"]
    return link_id


@pytest.fixture
async def goal(client: httpx.AsyncClient) -> str:
    answer = await client.post("/api/v1/goals", json={"name": "order", "currency": "EUR"})
    assert answer.status_code == 201, answer.text
    return "order"


async def test_a_split_is_set_shown_checked_and_removed(
    client: httpx.AsyncClient, store: Store
) -> None:
    link_id = await split_link(client, "ab", (1, 3))
    shown = (await client.get(f"/api/v1/links/{link_id}")).json()
    assert shown["destination"] == A
    assert shown["variants"] == [{"url": A, "weight": 1}, {"url": B, "weight": 3}]

    bad = await client.post(
        "/api/v1/links",
        json={"destination": A, "variants": [{"url": A}, {"url": "javascript:alert(1)"}]},
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "variants[1].url"
    apart = await client.post(
        "/api/v1/links", json={"destination": B, "variants": [{"url": A}, {"url": B}]}
    )
    assert apart.status_code == 422 and apart.json()["error"]["field"] == "variants"
    lonely = await client.post("/api/v1/links", json={"destination": A, "variants": [{"url": A}]})
    assert lonely.status_code == 422 and lonely.json()["error"]["field"] == "variants"
    zero = await client.patch(
        f"/api/v1/links/{link_id}", json={"variants": [{"url": A, "weight": 0}, {"url": B}]}
    )
    assert zero.status_code == 422 and zero.json()["error"]["field"].startswith("variants[0]")
    assert await store.count_links() == 1
    assert (await client.get(f"/api/v1/links/{link_id}")).json()["variants"] == shown["variants"]

    ended = await client.patch(f"/api/v1/links/{link_id}", json={"variants": []})
    assert ended.status_code == 200 and ended.json()["variants"] == []
    assert ended.json()["destination"] == A


async def test_a_visitor_keeps_a_variant_and_visitors_split_near_the_weights(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    link_id = await split_link(client, "ab", (1, 3))
    seen: dict[int, int] = {}
    for visitor in range(1000):
        r = await anon.get("/ab", headers={"user-agent": agent(visitor)})
        assert r.status_code == 302
        variant, named = variant_of(r.headers["location"])
        assert named == variant  # the click token carries the variant to a conversion
        seen[visitor] = variant
    share = Counter(seen.values())[1] / 1000
    assert 0.70 < share < 0.80  # weights 1:3; three standard deviations are 0.041

    for visitor in (3, 7, 500):  # again, on the ASGI path and on the fast path
        again = await anon.get("/ab", headers={"user-agent": agent(visitor)})
        assert variant_of(again.headers["location"])[0] == seen[visitor]
        headers = [(b"host", b"fm.test"), (b"user-agent", agent(visitor).encode())]
        # A hit buffer the writer has not caught up with sends any click to the ASGI path.
        await app.state.runtime.writer.drain()
        answer = app.quick(b"GET", b"/ab", headers, CLIENT, DATE, True)
        assert answer is not None, "a split link stays on the fast path"
        location = next(
            line.split(b": ", 1)[1].decode()
            for line in answer.split(b"\r\n")
            if line.startswith(b"location: ")
        )
        assert variant_of(location)[0] == seen[visitor]

    await app.state.runtime.writer.drain()
    counts = await store.variant_counts(link_id)
    assert counts[0].clicks + counts[1].clicks == 1000 + 6
    assert counts[1].clicks == Counter(seen.values())[1] + sum(2 for v in (3, 7, 500) if seen[v])
    assert (counts[0].visitors, counts[1].visitors) == (
        Counter(seen.values())[0],
        Counter(seen.values())[1],
    )


async def test_the_report_shows_each_variant_with_a_p_value(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, goal: str
) -> None:
    link_id = await split_link(client, "ab", (1, 1))
    tokens: dict[int, list[str]] = {0: [], 1: []}
    for visitor in range(600):
        r = await anon.get("/ab", headers={"user-agent": agent(visitor)})
        variant, _ = variant_of(r.headers["location"])
        tokens[variant].append(dict(parse_qsl(urlsplit(r.headers["location"]).query))["fm_click"])
    await app.state.runtime.writer.drain()
    converted = {0: tokens[0][:20], 1: tokens[1][:60]}
    batch = [
        {
            "event_id": f"o-{variant}-{n}",
            "goal": goal,
            "click_token": token,
            "value": 10,
            "currency": "EUR",
        }
        for variant, found in converted.items()
        for n, token in enumerate(found)
    ]
    stored = await client.post("/api/v1/conversions", json={"conversions": batch})
    assert stored.status_code == 200, stored.text

    answer = await client.get(f"/api/v1/links/{link_id}/variants")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["split"] is True
    control, challenger = body["variants"]
    clicks = (len(tokens[0]), len(tokens[1]))
    assert (control["clicks"], challenger["clicks"]) == clicks
    assert (control["conversions"], challenger["conversions"]) == (20, 60)
    assert (control["url"], challenger["url"]) == (A, B)
    assert challenger["conversion_rate"] == round(60 / clicks[1], 6)
    assert (challenger["revenue"], challenger["revenue_per_click"]) == (
        600.0,
        round(600 / clicks[1], 6),
    )
    expected = z_test(20, clicks[0], 60, clicks[1])
    assert expected is not None and expected < 0.001
    assert challenger["p_value"] == pytest.approx(expected, abs=1e-6)
    assert challenger["significant"] is True and challenger["note"] is None
    assert control["p_value"] is None and control["significant"] is False

    typo = await client.get(f"/api/v1/links/{link_id}/variants", params={"form": "x"})
    assert typo.status_code == 400
    missing = await client.get("/api/v1/links/999/variants")
    assert missing.status_code == 404


async def test_a_small_sample_gets_the_note_and_is_not_called(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    link_id = await split_link(client, "ab", (1, 1))
    for visitor in range(20):
        await anon.get("/ab", headers={"user-agent": agent(visitor)})
    await app.state.runtime.writer.drain()
    rows = (await client.get(f"/api/v1/links/{link_id}/variants")).json()["variants"]
    assert [r["variant"] for r in rows] == [0, 1]
    assert all(r["note"] and not r["significant"] for r in rows)
    assert rows[1]["p_value"] is None  # no conversions on either side: no spread to test


async def test_promoting_a_variant_ends_the_split_at_once(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    link_id = await split_link(client, "ab", (1, 1))
    for visitor in range(10):  # warm: the split is in the link cache
        await anon.get("/ab", headers={"user-agent": agent(visitor)})

    promoted = await client.post(f"/api/v1/links/{link_id}/variants/1/promote")
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["destination"] == B and promoted.json()["variants"] == []
    for visitor in range(10):
        r = await anon.get("/ab", headers={"user-agent": agent(visitor)})
        assert urlsplit(r.headers["location"]).path == "/b"
        assert (
            token_variant(dict(parse_qsl(urlsplit(r.headers["location"]).query))["fm_click"])
            is None
        )

    entries, _ = await store.list_audit(audit.Query(action="promote"))
    assert [(e.object_id, e.detail) for e in entries] == [(str(link_id), {"variant": 1})]
    again = await client.post(f"/api/v1/links/{link_id}/variants/1/promote")
    assert again.status_code == 409
    await app.state.runtime.writer.drain()
    report = (await client.get(f"/api/v1/links/{link_id}/variants")).json()
    assert report["split"] is False
    assert sum(r["clicks"] for r in report["variants"]) == 10  # counted before the promotion


async def test_promoting_a_variant_the_link_lacks_is_not_found(client: httpx.AsyncClient) -> None:
    link_id = await split_link(client, "ab", (1, 1))
    missing = await client.post(f"/api/v1/links/{link_id}/variants/5/promote")
    assert missing.status_code == 404
    assert (await client.get(f"/api/v1/links/{link_id}")).json()["variants"] != []
