"""The second set of dashboard pages through their handlers: money KPIs on the overview,
report tables and attribution with CSV, ad-cost uploads, goals and conversions, and the QR
designer with logos and placements. Every form: CSRF, errors next to the field, nothing
half-saved."""

from __future__ import annotations

import html
import io
import re
import time
import zipfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from PIL import Image

from conftest import BASE_URL
from dashtools import csrf_of, make_client
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.figures import TIMES
from firstmark.domain.goals import Goal
from firstmark.domain.links import Link
from firstmark.store import Store
from qrtools import decode_png

YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
GOOD_COSTS = (
    "date,source,medium,campaign,spend,currency,impressions,clicks\n"
    f"{YESTERDAY},newsletter,email,Winter Sale,40.00,EUR,1000,20\n"
    f"{YESTERDAY},google,cpc,winter-sale,60.50,EUR,2000,50\n"
)
BAD_COSTS = (
    "date,source,medium,campaign,spend,currency\n"
    f"{YESTERDAY},google,cpc,winter,10,EUR\n"
    "31/02/2026,google,cpc,winter,10,EUR\n"
    f"{YESTERDAY},google,cpc,winter,-5,EUR\n"
    f"{YESTERDAY},google,cpc,winter,5,EUX\n"
)


@pytest.fixture
async def api(app: Any, make_key: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    key = await make_key("reports:read", "links:read")
    async with await make_client(app) as http:
        http.headers["authorization"] = f"Bearer {key}"
        yield http


async def token(http: httpx.AsyncClient, path: str = "/dashboard/costs") -> str:
    return csrf_of((await http.get(path)).text)


def kpi(page: str, name: str) -> str:
    found = re.search(rf'data-kpi="{name}">(.*?)</span>', page, re.S)
    assert found, name
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def field_error(page: str, field: str) -> str | None:
    found = re.search(rf'<p class="error" id="err-{field}">(.*?)</p>', page)
    return None if found is None else html.unescape(found.group(1))


async def upload_costs(dash: httpx.AsyncClient, body: bytes, **fields: str) -> httpx.Response:
    return await dash.post(
        "/dashboard/costs",
        data={"csrf": await token(dash), **fields},
        files={"file": ("costs.csv", body, "text/csv")},
    )


# --- ad costs ---------------------------------------------------------------------------------


async def test_a_cost_upload_changes_the_kpi_cards(dash: httpx.AsyncClient, store: Store) -> None:
    before = (await dash.get("/dashboard")).text
    assert kpi(before, "spend") == "—" and kpi(before, "cpc") == "—"
    assert kpi(before, "roas") == "—" and kpi(before, "conversions") == "0"

    answer = await upload_costs(dash, GOOD_COSTS.encode())
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/costs"
    shown = (await dash.get("/dashboard/costs")).text
    assert 'data-import="imported">2<' in shown and 'data-import="replaced">0<' in shown
    assert "newsletter / email" in shown and 'data-spend="EUR">100.50 EUR' in shown

    after = (await dash.get("/dashboard")).text
    assert kpi(after, "spend") == "€100.50"
    assert kpi(after, "ctr") == "2.33 %"  # 70 ad clicks of 3,000 impressions
    assert kpi(after, "cpc") == "€1.44"
    assert kpi(after, "roi") == "-100.00 %" and kpi(after, "roas") == f"0.00{TIMES}"

    again = await upload_costs(dash, GOOD_COSTS.encode())
    assert again.status_code == 303
    assert 'data-import="replaced">2<' in (await dash.get("/dashboard/costs")).text
    assert kpi((await dash.get("/dashboard")).text, "spend") == "€100.50"  # not doubled


async def test_a_bad_cost_file_shows_every_row_error_and_stores_nothing(
    dash: httpx.AsyncClient, store: Store
) -> None:
    answer = await upload_costs(dash, BAD_COSTS.encode(), source="google")
    assert answer.status_code == 422
    page = answer.text
    assert "3 row(s) have errors; nothing was imported." in field_error(page, "file")  # type: ignore[operator]
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>(\w+)</td><td>([^<]+)</td></tr>', page)
    assert [(r, c) for r, c, _ in rows] == [("3", "date"), ("4", "spend"), ("5", "currency")]
    assert "must not be negative" in rows[1][2]
    file_input = re.search(r'<input id="f-file"[^>]*>', page)
    assert (
        file_input and "row-errors" in file_input.group(0) and "aria-invalid" in file_input.group(0)
    )
    assert 'value="google"' in page  # what was typed stays
    assert await store.cost_totals(0, 10**6, []) == []


@pytest.mark.parametrize(
    ("body", "fields", "field", "message"),
    [
        (
            b"date,campaign,spend\n" + "2026-01-01,caf\xe9,5\n".encode("latin-1"),
            {},
            "file",
            "not UTF-8",
        ),
        (b"when,what\n2026-01-01,5\n", {}, "file", "no header row"),
        (b"", {}, "file", "choose the export file"),
        (GOOD_COSTS.encode(), {"currency": "EUX"}, "currency", "ISO 4217"),
        (GOOD_COSTS.encode(), {"preset": "myspace"}, "preset", "preset must be"),
    ],
)
async def test_a_refused_cost_upload_says_why_next_to_the_field(
    dash: httpx.AsyncClient,
    store: Store,
    body: bytes,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    if body:
        answer = await upload_costs(dash, body, **fields)
    else:
        answer = await dash.post(
            "/dashboard/costs", data={"csrf": await token(dash)}, files={"file": ("", b"")}
        )
    assert answer.status_code == 422
    assert message in (field_error(answer.text, field) or "")
    assert await store.cost_totals(0, 10**6, []) == []


# --- CSRF on every new form -------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["missing", "wrong"])
@pytest.mark.parametrize("form", ["costs", "goal", "logo", "placements"])
async def test_new_forms_need_their_csrf_token(
    dash: httpx.AsyncClient, store: Store, form: str, bad: str
) -> None:
    link = await store.insert_link(Link(destination="https://a.example/", code="poster"))
    png = (await dash.get(f"/dashboard/links/{link.id}/qr", params={"format": "png"})).content
    posts: dict[str, tuple[str, dict[str, str], dict[str, Any]]] = {
        "costs": ("/dashboard/costs", {}, {"file": ("c.csv", GOOD_COSTS.encode())}),
        "goal": ("/dashboard/goals", {"name": "purchase"}, {}),
        "logo": (f"/dashboard/links/{link.id}/logo", {}, {"logo_file": ("l.png", png)}),
        "placements": (
            f"/dashboard/links/{link.id}/placements",
            {},
            {"placements_file": ("p.csv", b"name\nposter-a\n")},
        ),
    }
    path, data, files = posts[form]
    if bad == "wrong":
        data = {**data, "csrf": "forged"}
    answer = await dash.post(path, data=data, files=files or None)
    assert answer.status_code == 403 and "Nothing was changed" in answer.text
    assert await store.cost_totals(0, 10**6, []) == []
    assert await store.list_goals() == []
    assert await store.list_placements(link.id or 0) == []
    assert await store.get_logo(1) is None


# --- goals and conversions --------------------------------------------------------------------


async def test_create_a_goal(app: Any, dash: httpx.AsyncClient, store: Store) -> None:
    answer = await dash.post(
        "/dashboard/goals",
        data={
            "csrf": await token(dash, "/dashboard/conversions"),
            "name": "purchase",
            "kind": "macro",
            "event_name": "",
            "default_value": "49,90",
            "currency": "eur",
            "window_days": "60",
        },
    )
    assert answer.status_code == 303
    [goal] = await store.list_goals()
    assert (goal.name, goal.default_value, goal.currency, goal.window_days) == (
        "purchase", 49.9, "EUR", 60,
    )  # fmt: skip
    page = (await dash.get("/dashboard/conversions")).text
    assert "Goal purchase added." in page and "49.90 EUR" in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "has space"}, "name", "letters, digits"),
        ({"name": ""}, "name", "letters, digits"),
        ({"name": "taken"}, "name", "exists already"),
        ({"name": "x", "window_days": "ninety"}, "window_days", "whole number"),
        ({"name": "x", "window_days": "400"}, "window_days", "1-365"),
        ({"name": "x", "default_value": "lots"}, "default_value", "must be a number"),
        ({"name": "x", "default_value": "5"}, "currency", "needs a currency"),
        ({"name": "x", "currency": "EUX"}, "currency", "ISO 4217"),
        ({"name": "x", "kind": "mega"}, "kind", "macro or micro"),
    ],
)
async def test_a_bad_goal_is_refused_next_to_its_field(
    dash: httpx.AsyncClient, store: Store, fields: dict[str, str], field: str, message: str
) -> None:
    await store.insert_goal(Goal(name="taken", created_at=datetime.now(UTC)))
    answer = await dash.post(
        "/dashboard/goals",
        data={"csrf": await token(dash, "/dashboard/conversions"), "kind": "macro", **fields},
    )
    assert answer.status_code == 422
    assert message in (field_error(answer.text, field) or "")
    assert [g.name for g in await store.list_goals()] == ["taken"]


async def test_conversions_show_their_credited_link(dash: httpx.AsyncClient, store: Store) -> None:
    link = await store.insert_link(
        Link(destination="https://a.example/", code="nl-dec", campaign="winter",
             utm_source="newsletter", utm_medium="email")
    )  # fmt: skip
    goal = await store.insert_goal(Goal(name="purchase", created_at=datetime.now(UTC)))
    await store.insert_conversions(
        [
            Conversion(
                event_id="order-1", goal_id=goal.id or 0, ts=time.time() - 60,
                consent=Consent(analytics=True), source="server", value=120.0, currency="EUR",
                link_id=link.id, utm_source="newsletter", utm_medium="email",
                utm_campaign="winter",
            )
        ]
    )  # fmt: skip
    page = (await dash.get("/dashboard/conversions")).text
    row = re.search(r"<tr><th scope=\"row\">[^<]+</th><td>purchase</td>(.*?)</tr>", page, re.S)
    assert row is not None
    assert "120.00 EUR" in row.group(1)
    assert f'<a href="/dashboard/links/{link.id}">nl-dec</a>' in row.group(1)
    assert "winter" in row.group(1) and "newsletter / email" in row.group(1)
    assert kpi((await dash.get("/dashboard")).text, "conversions") == "1"


# --- reports, the same numbers as the API -----------------------------------------------------


async def test_overview_cards_and_report_csv_match_the_api(
    dash: httpx.AsyncClient, api: httpx.AsyncClient, store: Store
) -> None:
    assert (await upload_costs(dash, GOOD_COSTS.encode())).status_code == 303
    totals = (await api.get("/api/v1/reports/overview")).json()["totals"]
    page = (await dash.get("/dashboard")).text
    assert kpi(page, "spend") == f"€{totals['spend']}"
    assert kpi(page, "cpc") == f"€{totals['cpc']}"

    for name in ("channels", "campaigns"):
        ours = await dash.get(f"/dashboard/reports/{name}.csv")
        theirs = await api.get(f"/api/v1/reports/{name}", params={"format": "csv"})
        assert ours.status_code == 200 and ours.headers["content-type"].startswith("text/csv")
        assert "attachment" in ours.headers["content-disposition"]
        assert ours.text == theirs.text
        # A spreadsheet reads the "—" of a missing value as UTF-8 only behind a BOM.
        assert ours.content.startswith("\ufeff".encode()) and "—".encode() in ours.content
        table = (await dash.get(f"/dashboard/reports/{name}")).text
        assert f'href="/dashboard/reports/{name}.csv?' in table
    campaigns = (await dash.get("/dashboard/reports/campaigns")).text
    row = re.search(r'<th scope="row">\s*winter-sale\s*</th>(.*?)</tr>', campaigns, re.S)
    assert row is not None
    cells = dict(re.findall(r'data-col="(\w+)">([^<]*)', row.group(1)))
    assert list(cells)[:6] == ["spend", "revenue", "roas", "roi", "cpa", "conversion_rate"]
    assert cells["spend"] == "€100.50" and cells["revenue"] == "€0.00"
    assert cells["roas"] == f"0.00{TIMES}"
    more = {"cols": ["impressions", "ctr", "cpc"], "currency": "EUR"}
    chosen = (await dash.get("/dashboard/reports/campaigns", params=more)).text
    row = re.search(r'<th scope="row">\s*winter-sale\s*</th>(.*?)</tr>', chosen, re.S)
    assert row is not None
    cells = dict(re.findall(r'data-col="(\w+)">([^<]*)', row.group(1)))
    assert cells == {"impressions": "3,000", "ctr": "2.33 %", "cpc": "€1.44"}
    # The tabs keep the range, the currency and the chosen columns.
    assert "cols=impressions&amp;cols=ctr&amp;cols=cpc" in chosen


def change_of(page: str, name: str) -> tuple[str, str]:
    """A card's change since the previous period: its tone and its text."""
    found = re.search(rf'data-change="{name}"><span class="delta (\w+)">(.*?)</span></span>', page)
    assert found, name
    return found.group(1), " ".join(re.sub(r"<[^>]+>", " ", found.group(2)).split())


async def test_cards_and_rows_compare_with_the_previous_period(dash: httpx.AsyncClient) -> None:
    earlier = (datetime.now(UTC) - timedelta(days=40)).date().isoformat()
    costs = (
        "date,source,medium,campaign,spend,currency,impressions,clicks\n"
        f"{earlier},google,cpc,winter-sale,40.00,EUR,1000,20\n"
        f"{YESTERDAY},google,cpc,winter-sale,60.00,EUR,1000,60\n"
    )
    assert (await upload_costs(dash, costs.encode())).status_code == 303
    page = (await dash.get("/dashboard")).text
    assert kpi(page, "spend") == "€60.00"
    assert change_of(page, "spend") == ("neutral", "▲ up 50.0 %")  # more spend: not good, not bad
    assert change_of(page, "ctr") == ("good", "▲ up 200.0 %")  # 2 % to 6 %
    assert change_of(page, "cpc") == ("good", "▼ down 50.0 %")  # 2.00 to 1.00: cheaper clicks
    assert change_of(page, "revenue") == ("neutral", "no previous value —")
    assert "change from the previous 30 days" in page

    table = (await dash.get("/dashboard/reports/campaigns", params={"cols": "spend,cpc"})).text
    row = re.search(r'<th scope="row">\s*winter-sale\s*</th>(.*?)</tr>', table, re.S)
    assert row is not None
    assert re.findall(r'<span class="delta (\w+)">', row.group(1)) == ["neutral", "good"]
    # A preset keeps the rest of the query; the default range is the 30 days preset.
    chips = re.search(r'<ul class="presets"[^>]*>(.*?)</ul>', table, re.S)
    assert chips is not None
    presets = re.findall(r'<a href="([^"]+)"( aria-current="true")?>([^<]+)</a>', chips.group(1))
    assert [label for _, _, label in presets] == [
        "Today", "7 days", "30 days", "90 days", "This month", "Last month",
    ]  # fmt: skip
    assert [label for _, current, label in presets if current] == ["30 days"]
    assert all("cols=spend%2Ccpc" in html.unescape(href) for href, _, _ in presets)


async def test_report_pages_refuse_bad_input_gently(dash: httpx.AsyncClient) -> None:
    page = await dash.get("/dashboard/reports/campaigns", params={"currency": "EUX"})
    assert page.status_code == 200 and "ISO 4217" in page.text
    cols = await dash.get("/dashboard/reports/campaigns", params={"cols": "spend,margin"})
    assert cols.status_code == 200
    assert "no column 'margin'" in (field_error(cols.text, "cols") or "")
    assert '<details class="columns" open>' in cols.text  # the chooser opens on its error
    assert 'value="spend" checked' in cols.text and 'value="revenue" checked' not in cols.text
    assert (await dash.get("/dashboard/reports/nothing")).status_code == 404
    attribution = await dash.get("/dashboard/attribution", params={"half_life_days": "-2"})
    assert (
        "half_life_days must be"
        in (re.search(r'id="err-half_life_days">([^<]*)', attribution.text) or ["", ""])[1]
    )
    assert 'aria-invalid="true"' in attribution.text
    csv = await dash.get("/dashboard/attribution.csv", params={"half_life_days": "-2"})
    assert csv.status_code == 422


async def test_attribution_page_and_csv_match_the_api(
    dash: httpx.AsyncClient, api: httpx.AsyncClient, store: Store
) -> None:
    link = await store.insert_link(
        Link(destination="https://a.example/", code="nl", utm_source="newsletter",
             utm_medium="email", utm_campaign="winter")
    )  # fmt: skip
    goal = await store.insert_goal(Goal(name="purchase", created_at=datetime.now(UTC)))
    await store.insert_conversions(
        [
            Conversion(
                event_id="order-1", goal_id=goal.id or 0, ts=time.time() - 60,
                consent=Consent(), source="server", value=80.0, currency="EUR",
                link_id=link.id, utm_source="newsletter", utm_medium="email",
                utm_campaign="winter",
            )
        ]
    )  # fmt: skip
    params = {"group_by": "campaign", "half_life_days": "3"}
    page = (await dash.get("/dashboard/attribution", params=params)).text
    for label in ("First touch", "Last non-direct", "Linear", "Time decay", "Position based"):
        assert label in page
    assert 'value="3"' in page and '<th scope="row">winter</th>' in page
    # One conversion, all credit to its campaign in every model: its row and the total.
    assert len(re.findall(r'<td class="num" data-revenue="\w+">€80.00</td>', page)) == 10
    ours = await dash.get("/dashboard/attribution.csv", params=params)
    theirs = await api.get("/api/v1/reports/attribution", params={**params, "format": "csv"})
    assert ours.status_code == 200 and ours.text == theirs.text


# --- the QR designer --------------------------------------------------------------------------


async def test_qr_images_need_a_login(app: Any, store: Store) -> None:
    link = await store.insert_link(Link(destination="https://a.example/", code="poster"))
    async with await make_client(app) as stranger:
        for path in ("qr", "qr/check", "placements.zip"):
            answer = await stranger.get(f"/dashboard/links/{link.id}/{path}")
            assert answer.status_code == 303


async def test_the_designer_renders_and_checks(dash: httpx.AsyncClient, store: Store) -> None:
    link = await store.insert_link(Link(destination="https://a.example/", code="poster"))
    base = f"/dashboard/links/{link.id}"
    png = await dash.get(f"{base}/qr", params={"format": "png", "scale": "6", "download": "1"})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.headers["content-disposition"] == 'attachment; filename="poster.png"'
    assert decode_png(png.content) == [f"{BASE_URL}/q/poster"]
    for fmt, kind in (("svg", "image/svg+xml"), ("pdf", "application/pdf"),
                      ("eps", "application/postscript")):  # fmt: skip
        answer = await dash.get(f"{base}/qr", params={"format": fmt})
        assert answer.headers["content-type"].startswith(kind)

    check = (
        await dash.get(
            f"{base}/qr/check", params={"dark": "#777777", "light": "#999999", "border": "1"}
        )
    ).json()
    assert check["ok"] is False and set(check["warnings"]) == {"contrast", "quiet_zone"}
    refused = await dash.get(f"{base}/qr/check", params={"dark": "blue"})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "dark"

    page = (
        await dash.get(base, params={"dark": "#777777", "light": "#999999", "border": "1"})
    ).text
    assert 'data-check="contrast"' in page and 'data-check="quiet_zone"' in page
    preview = re.search(r'<img id="qr-preview" src="([^"]+)"', page)
    assert preview is not None
    url = httpx.URL(html.unescape(preview.group(1)))
    assert url.path == f"{base}/qr"
    assert dict(url.params) == {
        "light": "#999999",
        "dark": "#777777",
        "border": "1",
        "format": "png",
    }
    bad = (await dash.get(base, params={"scale": "0"})).text
    assert "scale must be a whole number" in bad


async def test_logo_upload(dash: httpx.AsyncClient, store: Store) -> None:
    link = await store.insert_link(Link(destination="https://a.example/", code="poster"))
    base = f"/dashboard/links/{link.id}"
    csrf = await token(dash, base)
    refused = await dash.post(
        f"{base}/logo", data={"csrf": csrf}, files={"logo_file": ("l.gif", b"GIF89a...")}
    )
    assert refused.status_code == 303
    page = (await dash.get(refused.headers["location"])).text
    assert "must be a PNG or SVG" in page and await store.get_logo(1) is None

    logo = io.BytesIO()
    Image.new("RGBA", (40, 40), (200, 30, 30, 255)).save(logo, "PNG")
    answer = await dash.post(
        f"{base}/logo",
        data={"csrf": csrf, "dark": "#123456"},
        files={"logo_file": ("l.png", logo.getvalue(), "image/png")},
    )
    assert answer.status_code == 303, answer.text
    stored = await store.get_logo(1)
    assert stored is not None
    assert answer.headers["location"] == f"{base}?dark=%23123456&logo=1&ec=H#qr"
    framed = await dash.get(f"{base}/qr", params={"format": "png", "logo": "1", "scale": "8"})
    assert decode_png(framed.content) == [f"{BASE_URL}/q/poster"]


async def test_placements_batch_all_or_nothing_and_zip(
    dash: httpx.AsyncClient, store: Store
) -> None:
    link = await store.insert_link(Link(destination="https://a.example/", code="poster"))
    base = f"/dashboard/links/{link.id}"
    csrf = await token(dash, base)
    bad = await dash.post(
        f"{base}/placements",
        data={"csrf": csrf},
        files={
            "placements_file": (
                "p.csv",
                b"name,quantity,code\nposter-a,5,\nposter-b,many,\nposter-a,1,\nposter-c,1,api\n",
            )
        },
    )
    page = (await dash.get(bad.headers["location"])).text
    error = field_error(page, "placements_file") or ""
    assert error == "3 row(s) have errors. Nothing was added."
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>(\w+)</td><td>([^<]+)</td></tr>', page)
    assert [(r, c) for r, c, _ in rows] == [("3", "quantity"), ("4", "name"), ("5", "code")]
    assert "repeated" in rows[1][2]
    assert await store.list_placements(link.id or 0) == []

    good = await dash.post(
        f"{base}/placements",
        data={"csrf": csrf},
        files={"placements_file": ("p.csv", b"name,venue\nposter-a,Oslo S\nposter-b,\n")},
    )
    assert good.status_code == 303
    found = await store.list_placements(link.id or 0)
    assert sorted(p.name for p in found) == ["poster-a", "poster-b"]
    page = (await dash.get(base)).text
    assert "Added 2 placement(s)." in page and "Oslo S" in page

    archive = await dash.get(f"{base}/placements.zip", params={"format": "png", "scale": "4"})
    assert archive.status_code == 200 and archive.headers["x-placements"] == "2"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        names = sorted(opened.namelist())
        assert names == ["manifest.csv", "poster-a.png", "poster-b.png"]
        codes = {p.name: p.code for p in found}
        texts = decode_png(opened.read("poster-a.png"))
        assert texts == [f"{BASE_URL}/q/{codes['poster-a']}"]


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/reports",
        "/dashboard/reports/campaigns",
        "/dashboard/reports/channels.csv",
        "/dashboard/attribution",
        "/dashboard/attribution.csv",
        "/dashboard/costs",
        "/dashboard/conversions",
    ],
)
async def test_every_new_page_needs_a_login(app: Any, path: str) -> None:
    async with await make_client(app) as stranger:
        answer = await stranger.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/dashboard/login?next=/dashboard")


async def test_an_oversized_upload_is_refused_before_reading(
    dash: httpx.AsyncClient, store: Store
) -> None:
    link = await store.insert_link(Link(destination="https://a.example/", code="poster"))
    answer = await dash.post(
        f"/dashboard/links/{link.id}/logo",
        data={"csrf": await token(dash)},
        files={"logo_file": ("big.png", b"\x89PNG" + b"0" * (700 * 1024))},
    )
    assert answer.status_code == 413 and await store.get_logo(1) is None


async def test_the_designer_form_works_without_javascript(
    dash: httpx.AsyncClient, store: Store
) -> None:
    """What the browser sends for Apply and Download: every field, empty ones included."""
    link = await store.insert_link(Link(destination="https://a.example/", code="poster"))
    form = {
        "format": "png", "scale": "5", "border": "4", "dark": "#1a1a1a", "light": "#ffffff",
        "ec": "Q", "logo": "", "logo_size": "20", "print_size_mm": "", "scan_distance_mm": "",
    }  # fmt: skip
    applied = await dash.get(f"/dashboard/links/{link.id}", params=form)
    assert applied.status_code == 200 and 'data-check="ok"' in applied.text
    assert '<option value="Q" selected>' in applied.text
    download = await dash.get(f"/dashboard/links/{link.id}/qr", params={**form, "download": "1"})
    assert download.headers["content-disposition"] == 'attachment; filename="poster.png"'
    assert decode_png(download.content) == [f"{BASE_URL}/q/poster"]
