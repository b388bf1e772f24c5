"""The dashboard's Web section and Channels page: a site's visits by channel, page and goal with
filters applied by clicking a row, funnels, and the channel rules form."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
from test_whole_journey import journey

from dashtools import csrf_of, error_for
from firstmark.store import Store


def kpi(page: str, name: str) -> str:
    found = re.search(rf'data-kpi="{name}">([^<]*)<', page)
    assert found, name
    return found.group(1).strip()


def panel(page: str, report: str) -> dict[str, dict[str, str]]:
    """A panel's rows: key → {column: cell}, and the row's filter link as "href"."""
    found = re.search(rf'data-panel="{report}">(.*?)</section>', page, re.S)
    assert found, report
    rows = {}
    for key, body in re.findall(r'<tr data-key="([^"]*)">(.*?)</tr>', found.group(1), re.S):
        cells = dict(re.findall(r'data-col="([a-z_]+)">([^<]*)<', body))
        link = re.search(r'<a href="([^"]+)"', body)
        cells["href"] = html.unescape(link.group(1)) if link else ""
        rows[html.unescape(key)] = cells
    return rows


async def site_id(store: Store, key: str) -> int:
    found = await store.site_by_key(key)
    assert found is not None and found.id is not None
    return found.id


async def test_the_web_overview_shows_visits_by_channel_and_filters_by_a_click(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store,
    dash: httpx.AsyncClient,
) -> None:  # fmt: skip
    sid = await site_id(store, await journey(client, anon, app))
    made = await client.post(
        "/api/v1/funnels",
        json={"site": sid, "name": "Home to purchase", "steps": [{"page": "/"},
              {"event": "purchase"}]},
    )  # fmt: skip
    assert made.status_code == 201, made.text

    listing = (await dash.get("/dashboard/web")).text
    assert f'href="/dashboard/web/{sid}"' in listing and "shop.example" in listing
    assert 'href="/dashboard/web"' in listing  # in the navigation

    page = (await dash.get(f"/dashboard/web/{sid}")).text
    assert (kpi(page, "visitors"), kpi(page, "visits"), kpi(page, "pageviews")) == ("3", "4", "6")
    assert kpi(page, "realtime") == "3" and kpi(page, "conversions") == "1"
    assert '<svg class="chart"' in page
    channels = panel(page, "channels")
    assert {k: r["visitors"] for k, r in channels.items()} == {
        "AI Assistants": "1", "Paid Search": "1", "Direct": "2",
    }  # fmt: skip
    assert panel(page, "sources")["chatgpt.com"]["visitors"] == "1"
    assert panel(page, "pages")["/"]["visitors"] == "2"
    # Goals: conversion rate over every visitor of the range (1 buyer of 3).
    goals = panel(page, "goals")
    assert goals["purchase"]["conversions"] == "1"
    assert goals["purchase"]["conversion_rate"] == "33.3"
    funnel = re.search(r'data-funnel="Home to purchase">(.*?)</table>', page, re.S)
    assert funnel is not None
    assert re.findall(r'<td class="num">(\d+)</td><td class="num">', funnel.group(1)) == ["2", "1"]

    # A click on the AI Assistants row narrows every panel to its visits.
    href = channels["AI Assistants"]["href"]
    assert href.startswith(f"/dashboard/web/{sid}?") and "channel=AI+Assistants" in href
    narrowed = (await dash.get(href)).text
    assert kpi(narrowed, "visitors") == "1" and kpi(narrowed, "visits") == "1"
    assert list(panel(narrowed, "channels")) == ["AI Assistants"]
    assert list(panel(narrowed, "pages")) == ["/", "/pricing"]
    chip = re.search(r'data-filter="channel">(.*?)</li>', narrowed, re.S)
    assert chip is not None and "AI Assistants" in chip.group(1)
    # Filters combine: a page on top of the channel, then one removed.
    both = (await dash.get(panel(narrowed, "pages")["/pricing"]["href"])).text
    assert 'data-filter="page"' in both and 'data-filter="channel"' in both
    remove = re.search(r'data-filter="channel">.*?<a href="([^"]+)"', both, re.S)
    assert remove is not None
    only_page = (await dash.get(html.unescape(remove.group(1)))).text
    assert 'data-filter="channel"' not in only_page and 'data-filter="page"' in only_page
    assert kpi(only_page, "visitors") == "1"


async def test_a_bad_filter_is_named_and_left_out(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store,
    dash: httpx.AsyncClient,
) -> None:  # fmt: skip
    sid = await site_id(store, await journey(client, anon, app))
    page = await dash.get(f"/dashboard/web/{sid}", params={"channel": "Carrier pigeon"})
    assert page.status_code == 200
    assert "Left out: Channel: channel must be one of" in html.unescape(page.text)
    assert kpi(page.text, "visitors") == "3"
    assert (await dash.get("/dashboard/web/999")).status_code == 404
    assert (await dash.get("/dashboard/web/abc")).status_code == 404


async def test_an_empty_install_explains_how_to_add_a_site(dash: httpx.AsyncClient) -> None:
    page = (await dash.get("/dashboard/web")).text
    assert "firstmark site add" in page


async def test_the_channels_page_puts_every_touch_side_by_side(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, dash: httpx.AsyncClient
) -> None:
    await journey(client, anon, app)
    page = (await dash.get("/dashboard/channels", params={"currency": "EUR"})).text
    rows = {
        html.unescape(name): dict(re.findall(r'data-col="([a-z_]+)">([^<]*)<', body))
        for name, body in re.findall(r'<tr data-channel="([^"]+)">(.*?)</tr>', page, re.S)
    }
    assert {k: (r["visits"], r["visitors"]) for k, r in rows.items()} == {
        "AI Assistants": ("1", "1"), "Paid Search": ("1", "1"), "Direct": ("2", "2"),
    }  # fmt: skip
    assert rows["AI Assistants"]["conversions"] == "1"
    assert rows["AI Assistants"]["conversion_rate"] == "100.00"
    assert rows["Direct"]["conversions"] == "0"
    for column in ("clicks", "scans", "calls", "spend", "ctr", "cpc", "cpa", "roas", "roi"):
        assert column in rows["Direct"]


async def test_rules_and_exclusions_are_added_and_removed_from_the_channels_page(
    app: Any, client: httpx.AsyncClient, dash: httpx.AsyncClient
) -> None:
    token = csrf_of((await dash.get("/dashboard/channels")).text)
    added = await dash.post(
        "/dashboard/channels/rules",
        data={"csrf": token, "action": "channel", "field": "source", "match": "equals",
              "value": "PartnerX", "channel": "Affiliates"},
    )  # fmt: skip
    assert added.status_code == 303
    excluded = await dash.post(
        "/dashboard/channels/rules",
        data={"csrf": token, "action": "exclude", "value": "https://pay.example.com/checkout"},
    )
    assert excluded.status_code == 303
    rules = {(r["action"], r["value"], r["channel"]): r["id"]
             for r in (await client.get("/api/v1/channels/rules")).json()["items"]}  # fmt: skip
    assert set(rules) == {
        ("channel", "partnerx", "Affiliates"), ("exclude", "pay.example.com", None),
    }  # fmt: skip
    page = (await dash.get("/dashboard/channels")).text
    assert "Referrer pay.example.com excluded." in page  # the latest change's message
    assert "<strong>partnerx</strong>" in page and "pay.example.com" in page

    bad = await dash.post(
        "/dashboard/channels/rules",
        data={"csrf": token, "action": "channel", "field": "source", "match": "equals",
              "value": "", "channel": "Affiliates"},
    )  # fmt: skip
    assert bad.status_code == 422
    assert "value must be text" in (error_for(bad.text, "rule_value") or "")
    forged = await dash.post(
        f"/dashboard/channels/rules/{rules[('channel', 'partnerx', 'Affiliates')]}/delete"
    )
    assert forged.status_code == 403  # no CSRF token: nothing removed

    for rule_id in rules.values():
        gone = await dash.post(f"/dashboard/channels/rules/{rule_id}/delete", data={"csrf": token})
        assert gone.status_code == 303
    assert (await client.get("/api/v1/channels/rules")).json()["items"] == []
    again = await dash.post("/dashboard/channels/rules/12345/delete", data={"csrf": token})
    assert again.status_code == 303
    assert "No rule #12345." in (await dash.get("/dashboard/channels")).text


async def test_the_attribution_page_groups_by_channel(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, dash: httpx.AsyncClient
) -> None:
    await journey(client, anon, app)
    page = await dash.get("/dashboard/attribution", params={"group_by": "channel"})
    assert page.status_code == 200
    assert '<option value="channel" selected>Channel</option>' in page.text

    def credits(name: str) -> dict[str, str]:
        row = re.search(rf'<tr data-key="{name}">(.*?)</tr>', page.text, re.S)
        assert row is not None, name
        return dict(re.findall(r'data-model="([a-z_]+)">([^<]*)<', row.group(1)))

    ai, direct = credits("AI Assistants"), credits("Direct")
    assert (ai["last_non_direct"], direct["last_non_direct"]) == ("1.00", "0.00")
    assert ai["linear"] == direct["linear"] == "0.50"
