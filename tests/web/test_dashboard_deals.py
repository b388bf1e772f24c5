"""The dashboard's CRM deals page: an upload shows the rows matched and unmatched and why; a
bad row is shown next to the upload field and nothing is stored."""

from __future__ import annotations

import html
import time
from datetime import UTC, datetime

import httpx

from dashtools import csrf_of
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.links import Link
from firstmark.store import Store

TODAY = datetime.now(UTC).date().isoformat()


async def upload(dash: httpx.AsyncClient, body: str, **fields: str) -> httpx.Response:
    csrf = csrf_of((await dash.get("/dashboard/deals")).text)
    return await dash.post(
        "/dashboard/deals",
        data={"csrf": csrf, **fields},
        files={"file": ("deals.csv", body.encode(), "text/csv")},
    )


async def test_an_upload_shows_which_deals_matched_and_why(
    dash: httpx.AsyncClient, store: Store
) -> None:
    link = await store.insert_link(Link(code="crm-dash", destination="https://shop.example/"))
    assert link.id is not None
    token = ClickSigner("test-secret").token(link.id, time.time() - 600)
    body = (
        "Opportunity ID,Stage,Amount,Opportunity Currency,Close Date,Click Token\n"
        f"006A,Closed Won,100,EUR,{TODAY},{token}\n"
        f"006B,Negotiation,,EUR,{TODAY},\n"
    )
    answer = await upload(dash, body, preset="salesforce", action_source="physical_store")
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/deals"
    shown = html.unescape((await dash.get("/dashboard/deals")).text)
    assert 'data-deals="imported">2<' in shown
    assert 'data-deals="matched">1<' in shown and 'data-deals="unmatched">1<' in shown
    assert f"the click on link {link.id}" in shown and "no identifier to match on" in shown


async def test_a_bad_row_is_shown_and_nothing_is_stored(
    dash: httpx.AsyncClient, store: Store
) -> None:
    body = f"deal_id,stage,ts,value,currency\n1,won,{TODAY},10,EUR\n2,won,{TODAY},ten,EUR\n"
    answer = await upload(dash, body, preset="generic")
    assert answer.status_code == 422
    page = html.unescape(answer.text)
    assert "1 row(s) have errors; nothing was imported." in page
    assert "<td>value</td>" in page
    assert (await store.list_conversions(None, 10, 0))[1] == 0
