"""The dashboard import page: upload an export, see imported / conflicts / errors, and the
historical clicks on the link's page."""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx

from dashtools import csrf_of
from firstmark.store import Store

FIXTURES = Path(__file__).parent.parent / "fixtures" / "import"
PAGE = "/dashboard/links/import"


async def upload(dash: httpx.AsyncClient, tool: str, body: bytes) -> httpx.Response:
    form = await dash.get(PAGE)
    return await dash.post(
        PAGE,
        data={"csrf": csrf_of(form.text), "tool": tool},
        files={"file": ("export", body, "application/octet-stream")},
    )


def shown(page: str, name: str) -> str:
    found = re.search(rf'data-import="{name}">(.*?)<', page)
    assert found, name
    return found.group(1)


async def test_an_upload_imports_and_a_second_one_reports_conflicts(
    dash: httpx.AsyncClient, store: Store
) -> None:
    assert 'href="/dashboard/links/import"' in (await dash.get("/dashboard/links")).text
    answer = await upload(dash, "dub", (FIXTURES / "dub.csv").read_bytes())
    assert answer.status_code == 200
    assert (shown(answer.text, "imported"), shown(answer.text, "conflicts")) == ("2", "0")
    link = await store.link_by_code("", "launch")
    assert link is not None and link.utm_campaign == "launch"
    detail = (await dash.get(f"/dashboard/links/{link.id}")).text
    assert re.search(r'data-kpi="clicks">910<', detail)

    again = await upload(dash, "dub", (FIXTURES / "dub.csv").read_bytes())
    assert (shown(again.text, "imported"), shown(again.text, "conflicts")) == ("0", "2")
    assert "&#39;launch&#39; is already in use" in again.text


async def test_a_bad_file_is_422_naming_the_row(dash: httpx.AsyncClient, store: Store) -> None:
    bad = b"Link,Long URL,Clicks\nbit.ly/a,https://a.example/,1\nbit.ly/b,https://b.example/,x\n"
    answer = await upload(dash, "bitly", bad)
    assert answer.status_code == 422
    assert "row 3, clicks: &#39;x&#39; is not a whole number" in answer.text
    assert await store.link_by_code("", "a") is None
    missing = await upload(dash, "gitlab", bad)
    assert missing.status_code == 422
    assert "choose the tool" in html.unescape(missing.text)
