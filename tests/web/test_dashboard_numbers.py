"""The dashboard's tracking numbers and calls: add and release numbers, set up a pool, read
the calls log, and find calls on the overview, the reports and a placement's page. Every
form: CSRF, errors next to the field, nothing half-saved."""

from __future__ import annotations

import csv
import html
import io
import re
import time
from typing import Any

import httpx
import pytest

from calltools import CALLER, call, number
from dashtools import csrf_of, make_client
from firstmark.domain.links import Link
from firstmark.store import CallQuery, Store


async def token(http: httpx.AsyncClient, path: str = "/dashboard/numbers") -> str:
    return csrf_of((await http.get(path)).text)


def field_error(page: str, field: str) -> str | None:
    found = re.search(rf'<p class="error" id="err-{field}">(.*?)</p>', page)
    return None if found is None else html.unescape(found.group(1))


def kpi(page: str, name: str) -> str:
    found = re.search(rf'data-kpi="{name}">(.*?)</span>', page, re.S)
    assert found, name
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def cells(page: str, row_start: str, column: str) -> list[str]:
    """The `column` cells (data-col) of the table rows whose first cell starts `row_start`."""
    out = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S):
        head = re.sub(r"<[^>]+>", "", row.split("</th>")[0]).strip()
        if head.startswith(row_start):
            out += re.findall(rf'data-col="{column}">([^<]*)<', row)
    return out


async def add(dash: httpx.AsyncClient, **fields: str) -> httpx.Response:
    form = {"provider": "twilio", "forward_to": "+442079460999", **fields}
    return await dash.post("/dashboard/numbers", data={"csrf": await token(dash), **form})


async def test_add_a_static_number_for_a_placement_and_release_it(
    dash: httpx.AsyncClient, store: Store
) -> None:
    poster = await store.insert_link(
        Link(destination="https://a.example/", code="poster", kind="qr", placement="oslo-s")
    )
    answer = await add(
        dash, number="020 7946 0100", region="GB", label="Poster Oslo S",
        link_id=str(poster.id), qualify_seconds="45", record="on",
    )  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/numbers"
    [saved] = await store.list_numbers()
    assert (saved.e164, saved.link_id, saved.qualify_s, saved.record, saved.pool) == (
        "+442079460100", poster.id, 45, True, None,
    )  # fmt: skip
    page = (await dash.get("/dashboard/numbers")).text
    assert "Number +44 20 7946 0100 added." in page
    row = re.search(r'<tr data-number="\+442079460100">(.*?)</tr>', page, re.S)
    assert row is not None
    assert "Poster Oslo S" in row.group(1) and "static" in row.group(1)
    assert f'<a href="/dashboard/links/{poster.id}">poster</a>' in row.group(1)
    assert "oslo-s" in row.group(1) and "+44 20 7946 0999" in row.group(1)
    assert any(g.name == "call" for g in await store.list_goals())  # what its calls reach

    await call(store, saved, "CA1", talk=80)
    released = await dash.post(
        f"/dashboard/numbers/{saved.id}/release",
        data={"csrf": await token(dash), "confirm": "yes"},
    )
    assert released.status_code == 303
    page = (await dash.get("/dashboard/numbers")).text
    assert "released; its calls stay in the log" in page
    assert 'data-number="+442079460100"' not in page
    assert await store.list_numbers() == []
    calls, total = await store.list_calls(CallQuery())
    assert total == 1 and calls[0].conversion_id is not None  # the log keeps it
    again = await dash.post(
        f"/dashboard/numbers/{saved.id}/release",
        data={"csrf": await token(dash), "confirm": "yes"},
    )
    assert "No tracking number" in (await dash.get(again.headers["location"])).text


async def test_pool_numbers_and_a_pool_with_its_fallback(
    dash: httpx.AsyncClient, store: Store
) -> None:
    for n in ("101", "102"):
        assert (await add(dash, number=f"+44207946{n.zfill(4)}", pool="web")).status_code == 303
    answer = await dash.post(
        "/dashboard/pools",
        data={
            "csrf": await token(dash), "name": "web", "fallback": "+442079460999",
            "lease_minutes": "45",
        },
    )  # fmt: skip
    assert answer.status_code == 303
    pool = await store.get_pool("web")
    assert pool is not None and (pool.fallback, pool.lease_s) == ("+442079460999", 45 * 60)
    page = (await dash.get("/dashboard/numbers")).text
    assert "Pool web saved." in page
    row = re.search(r'<tr data-pool="web">(.*?)</tr>', page, re.S)
    assert row is not None
    assert re.findall(r'<td class="num">([^<]*)</td>', row.group(1)) == ["2", "0", "45 min"]
    assert "+44 20 7946 0999" in row.group(1)
    assert page.count('>pool <span class="chip">web</span>') == 2


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"number": "12"}, "number", "international"),
        ({"number": ""}, "number", "a phone number"),
        ({"number": "+442079460100", "forward_to": "+442079460100"}, "forward_to", "loop"),
        ({"number": "+442079460100", "provider": "acme"}, "provider", "twilio"),
        ({"number": "+442079460100", "link_id": "999"}, "link_id", "no link"),
        ({"number": "+442079460100", "link_id": "poster"}, "link_id", "a link's id"),
        ({"number": "+442079460100", "qualify_seconds": "a minute"}, "qualify_seconds", "seconds"),
        ({"number": "+442079460100", "pool": "Web Pool!"}, "pool", "lowercase"),
        ({"number": "+442079460100", "hours": "whenever"}, "hours", "mon-fri"),
        ({"number": "+442079460200"}, "number", "already registered"),
    ],
)
async def test_a_bad_number_is_refused_next_to_its_field(
    dash: httpx.AsyncClient, store: Store, fields: dict[str, str], field: str, message: str
) -> None:
    await number(store, "+442079460200")
    answer = await add(dash, **fields)
    assert answer.status_code == 422
    error = field_error(answer.text, field)
    assert error is not None and message in error
    assert 'aria-invalid="true"' in answer.text
    assert [n.e164 for n in await store.list_numbers()] == ["+442079460200"]
    assert await store.list_pools(time.time()) == []


async def test_a_bad_pool_is_refused_next_to_its_field(
    dash: httpx.AsyncClient, store: Store
) -> None:
    for data, field in (
        ({"name": "Web!"}, "name"),
        ({"name": "web", "lease_minutes": "2"}, "lease_minutes"),
        ({"name": "web", "fallback": "call us"}, "fallback"),
        ({"name": "web", "site": "nosuchsite"}, "site"),
    ):
        answer = await dash.post("/dashboard/pools", data={"csrf": await token(dash), **data})
        assert answer.status_code == 422, data
        assert field_error(answer.text, field), data
    assert await store.list_pools(time.time()) == []


@pytest.mark.parametrize("bad", ["missing", "wrong"])
async def test_number_forms_need_their_csrf_token(
    dash: httpx.AsyncClient, store: Store, bad: str
) -> None:
    kept = await number(store, "+442079460200")
    csrf = {} if bad == "missing" else {"csrf": "forged"}
    for path, data in (
        ("/dashboard/numbers", {"number": "+442079460100", "provider": "twilio",
                                "forward_to": "+442079460999"}),
        ("/dashboard/pools", {"name": "web"}),
        (f"/dashboard/numbers/{kept.id}/release", {"confirm": "yes"}),
    ):  # fmt: skip
        answer = await dash.post(path, data={**data, **csrf})
        assert answer.status_code == 403 and "Nothing was changed" in answer.text
    assert [n.e164 for n in await store.list_numbers()] == ["+442079460200"]
    assert await store.list_pools(time.time()) == []


async def test_calls_log_newest_first_filtered_and_without_the_caller(
    dash: httpx.AsyncClient, store: Store
) -> None:
    link = await store.insert_link(
        Link(destination="https://a.example/", code="poster", campaign="spring",
             utm_campaign="spring", utm_source="print")
    )  # fmt: skip
    printed = await number(store, "+442079460100", link_id=link.id, label="Poster")
    other = await number(store, "+442079460200", campaign="fair")
    now = time.time()
    await call(store, printed, "CA-old", talk=75, ts=now - 7200)
    await call(store, printed, "CA-new", talk=None, status="no-answer", ts=now - 600)
    await call(store, other, "CA-fair", talk=125, ts=now - 3600)

    page = (await dash.get("/dashboard/calls")).text
    assert re.findall(r'data-call="([^"]+)"', page) == ["CA-new", "CA-fair", "CA-old"]
    assert CALLER not in page and CALLER[1:] not in page  # only the last two digits
    old = re.search(r'data-call="CA-old">(.*?)</tr>', page, re.S)
    assert old is not None
    text = " ".join(re.sub(r"<[^>]+>", " ", old.group(1)).split())
    assert "+44 20 7946 0100 Poster …23 1:15 completed static spring yes" in text
    fair = re.search(r'data-call="CA-fair">(.*?)</tr>', page, re.S)
    assert fair is not None and "fair" in fair.group(1) and "2:05" in fair.group(1)

    mine = (await dash.get("/dashboard/calls", params={"number": str(printed.id)})).text
    assert re.findall(r'data-call="([^"]+)"', mine) == ["CA-new", "CA-old"]
    assert f'<option value="{printed.id}" selected>' in mine
    qualified = (await dash.get("/dashboard/calls", params={"status": "qualified"})).text
    assert re.findall(r'data-call="([^"]+)"', qualified) == ["CA-fair", "CA-old"]
    missed = (await dash.get("/dashboard/calls", params={"status": "no-answer"})).text
    assert re.findall(r'data-call="([^"]+)"', missed) == ["CA-new"]

    bad = await dash.get("/dashboard/calls", params={"status": "lost", "number": "x"})
    assert bad.status_code == 200
    assert "qualified" in (field_error(bad.text, "status") or "")
    assert field_error(bad.text, "number")
    assert len(re.findall(r'data-call="', bad.text)) == 3  # shown unfiltered


async def test_calls_on_the_overview_reports_and_placement_page(
    dash: httpx.AsyncClient, store: Store
) -> None:
    parent = await store.insert_link(
        Link(destination="https://a.example/", code="fair", utm_source="print",
             utm_campaign="fair", kind="qr")
    )  # fmt: skip
    assert parent.id is not None
    r = await dash.post(
        f"/dashboard/links/{parent.id}/placements",
        data={"csrf": await token(dash)},
        files={"placements_file": ("p.csv", b"name,print_cost,currency\nStand B12,300,EUR\n")},
    )
    assert r.status_code == 303
    [stand] = await store.list_placements(parent.id)
    printed = await number(store, "+442079460100", link_id=stand.link_id)
    await call(store, printed, "CA1", talk=90)
    await call(store, printed, "CA2", talk=15)

    overview = (await dash.get("/dashboard")).text
    assert kpi(overview, "calls") == "2" and kpi(overview, "qualified_calls") == "1"
    assert kpi(overview, "cost_per_call") == "—"  # no ad cost imported

    calls = {"cols": "calls,answered_calls,qualified_calls,cost_per_call"}
    campaigns = (await dash.get("/dashboard/reports/campaigns", params=calls)).text
    assert cells(campaigns, "fair", "calls") == ["2"]
    assert cells(campaigns, "fair", "qualified_calls") == ["1"]
    assert cells(campaigns, "fair", "cost_per_call") == ["—"]
    assert cells(campaigns, "Total", "calls") == ["2"]
    channels = (await dash.get("/dashboard/reports/channels", params=calls)).text
    assert cells(channels, "print", "calls") == ["2"]  # source print, no medium
    assert cells(channels, "print", "qualified_calls") == ["1"]
    assert cells(channels, "Total", "calls") == ["2"]
    channels_csv = (await dash.get("/dashboard/reports/channels.csv")).content.decode("utf-8-sig")
    [line] = [x for x in csv.DictReader(io.StringIO(channels_csv)) if x["source"] == "print"]
    assert (line["medium"], line["calls"], line["answered_calls"]) == ("", "2", "2")
    csv_text = (await dash.get("/dashboard/reports/campaigns.csv")).content.decode("utf-8-sig")
    assert "calls,answered_calls,qualified_calls" in csv_text.splitlines()[0]

    groups = (await dash.get("/dashboard/campaigns", params={"by": "utm_campaign"})).text
    assert cells(groups, "fair", "calls") == ["2"]
    assert cells(groups, "fair", "qualified_calls") == ["1"]
    by_tag = (await dash.get("/dashboard/campaigns", params={"by": "tag"})).text
    assert 'data-col="calls"' not in by_tag

    page = (await dash.get(f"/dashboard/links/{parent.id}")).text
    assert cells(page, "Stand B12", "calls") == ["2"]
    assert cells(page, "Stand B12", "qualified_calls") == ["1"]
    assert kpi(page, "calls") == "0"  # the parent link's own number: none
    placement_page = (await dash.get(f"/dashboard/links/{stand.link_id}")).text
    assert kpi(placement_page, "calls") == "2" and kpi(placement_page, "qualified_calls") == "1"
    assert f'<a href="/dashboard/calls?number={printed.id}">+44 20 7946 0100</a>' in placement_page


@pytest.mark.parametrize("path", ["/dashboard/numbers", "/dashboard/calls"])
async def test_number_pages_need_a_login_and_are_in_the_nav(
    app: Any, dash: httpx.AsyncClient, path: str
) -> None:
    async with await make_client(app) as stranger:
        answer = await stranger.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"/dashboard/login?next={path}")
    page = (await dash.get(path)).text
    assert f'<a href="{path}" aria-current="page">' in page
