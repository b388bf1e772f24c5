"""The dashboard's A/B split: the variants editor on the link form, the report table with its
p-values on the link page, and the Promote button."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from agents import DESKTOP
from dashtools import csrf_of
from firstmark.store import Store

A, B = "https://shop.example/a", "https://shop.example/b"


async def create(dash: httpx.AsyncClient, variants: str) -> httpx.Response:
    form = await dash.get("/dashboard/links/new")
    data = {"csrf": csrf_of(form.text), "destination": "", "code": "ab", "variants": variants,
            "click_token": "on", "redirect_status": "302"}  # fmt: skip
    return await dash.post("/dashboard/links/new", data=data)


async def test_a_bad_variant_line_is_shown_on_the_editor(dash: httpx.AsyncClient) -> None:
    answer = await create(dash, f"{A}=1\njavascript:alert(1)=1")
    assert answer.status_code == 422
    shown = html.unescape(re.search(r'id="err-variants">(.*?)</p>', answer.text).group(1))  # type: ignore[union-attr]
    assert "http or https" in shown
    assert "javascript:alert(1)=1" in html.unescape(answer.text)  # the editor keeps the lines


async def test_the_link_page_reports_variants_and_promotes_one(
    app: Any, dash: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    created = await create(dash, f"{A}=1\n{B}=3")
    assert created.status_code == 303, created.text
    link_url = created.headers["location"]
    link = await store.link_by_code("", "ab")
    assert link is not None and [v.weight for v in link.variants] == [1, 3]
    edit = await dash.get(f"{link_url}/edit")
    assert f"{A}=1\n{B}=3" in html.unescape(edit.text)

    for visitor in range(40):
        agent = DESKTOP.replace("Chrome/124.0.0.0", f"Chrome/124.0.{visitor}.0")
        await anon.get("/ab", headers={"user-agent": agent})
    await app.state.runtime.writer.drain()

    page = await dash.get(link_url)
    table = re.search(r'<table id="ab-table">.*?</table>', page.text, re.S)
    assert table is not None
    rows = re.findall(r'<tr data-variant="(\d)">(.*?)</tr>', table.group(0), re.S)
    assert [n for n, _ in rows] == ["0", "1"]
    clicks = [int(re.findall(r'<td class="num">([\d,]+)</td>', row)[1]) for _, row in rows]
    assert sum(clicks) == 40
    assert "fewer than 100 clicks" in rows[1][1]  # the minimum sample note
    assert "data-p-value" in rows[1][1]

    promote = re.search(r'action="(/dashboard/links/\d+/variants/1/promote)"', page.text)
    assert promote is not None
    done = await dash.post(promote.group(1), data={"csrf": csrf_of(page.text)})
    assert done.status_code == 303
    after = await store.get_link(link.id or 0)
    assert after is not None and after.destination == B and after.variants == ()
    r = await anon.get("/ab", headers={"user-agent": DESKTOP})
    assert r.headers["location"].startswith(B)
    shown = await dash.get(link_url)
    assert "ended" in shown.text and "/promote" not in shown.text
