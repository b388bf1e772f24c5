"""GET /api/v1/web/{report}: every report over a site's visits, filters that combine, sorting,
paging, CSV, custom event properties, realtime; bad parameters name themselves."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from test_collect import make_site, post_event
from test_whole_journey import FIREFOX, SAFARI

from firstmark.domain.web import ALL_REPORTS, ROW_FIELDS
from firstmark.store import Store

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SITE = "https://shop.example"


async def traffic(app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient) -> int:
    key = await make_site(client)
    await client.post("/api/v1/goals", json={"name": "signup", "event_name": "signup"})
    sent = [
        # A ChatGPT visitor: two pages and a signup on the pro plan.
        ({"site": key, "url": f"{SITE}/", "referrer": "https://chatgpt.com/"}, FIREFOX),
        ({"site": key, "url": f"{SITE}/pricing"}, FIREFOX),
        ({"site": key, "type": "event", "name": "signup", "url": f"{SITE}/pricing",
          "props": {"plan": "pro"}}, FIREFOX),
        # A newsletter reader on a phone who bounces.
        ({"site": key, "url": f"{SITE}/blog/a",
          "landing": {"utm_source": "newsletter", "utm_medium": "email",
                      "utm_campaign": "spring"}}, IPHONE),
        # A direct visitor who reads the pricing page and signs up on the free plan.
        ({"site": key, "url": f"{SITE}/pricing"}, SAFARI),
        ({"site": key, "type": "event", "name": "signup", "url": f"{SITE}/pricing",
          "props": {"plan": "free"}}, SAFARI),
        # A crawler, kept apart.
        ({"site": key, "url": f"{SITE}/"}, BOT),
    ]  # fmt: skip
    for body, agent in sent:
        assert (await post_event(anon, body, **{"user-agent": agent})).status_code == 202
    await app.state.runtime.event_writer.drain()
    site = await client.get("/api/v1/sites")
    return int(next(s["id"] for s in site.json()["items"] if s["key"] == key))


async def test_overview_and_every_breakdown(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    site = await traffic(app, client, anon)
    overview = (await client.get("/api/v1/web/overview", params={"site": site})).json()
    assert overview["totals"] == {
        "visitors": 3, "visits": 3, "pageviews": 4, "bounce_rate": 33.3,
        "visit_duration_s": overview["totals"]["visit_duration_s"], "conversions": 2,
        "conversion_rate": 66.7, "revenue": "0.00",
    }  # fmt: skip
    assert overview["interval"] == "day" and len(overview["series"]) == 30
    assert sum(p["visitors"] for p in overview["series"]) == 3
    hourly = (await client.get("/api/v1/web/overview",
                               params={"site": site, "interval": "hour"})).json()  # fmt: skip
    assert len(hourly["series"]) == 48 and sum(p["pageviews"] for p in hourly["series"]) == 4

    async def keys(report: str, **params: Any) -> dict[Any, dict[str, Any]]:
        answer = await client.get(f"/api/v1/web/{report}", params={"site": site, **params})
        assert answer.status_code == 200, answer.text
        return {r["key"]: r for r in answer.json()["rows"]}

    channels = await keys("channels")
    assert {k: r["visitors"] for k, r in channels.items()} == {
        "AI Assistants": 1, "Email": 1, "Direct": 1,
    }  # fmt: skip
    assert channels["Email"]["bounce_rate"] == 100.0 and channels["Direct"]["bounce_rate"] == 0.0
    pages = await keys("pages")
    assert {k: (r["visitors"], r["pageviews"]) for k, r in pages.items()} == {
        "/": (1, 1), "/pricing": (2, 2), "/blog/a": (1, 1),
    }  # fmt: skip
    assert set(await keys("entry-pages")) == {"/", "/blog/a", "/pricing"}
    assert set(await keys("exit-pages")) == {"/pricing", "/blog/a"}
    assert set(await keys("sources")) == {"chatgpt.com", "newsletter", "(direct)"}
    assert set(await keys("referrers")) == {"chatgpt.com", None}
    assert set(await keys("campaigns")) == {"spring", None}
    assert set(await keys("devices")) == {"desktop", "mobile"}
    browsers = await keys("browsers")
    assert {k: r["visitors"] for k, r in browsers.items()} == {"Firefox": 1, "Safari": 2}
    assert "iOS" in await keys("os")
    assert set(await keys("countries")) == {None}
    goals = await keys("goals")
    assert goals["signup"]["conversions"] == 2 and goals["signup"]["visitors"] == 2
    assert goals["signup"]["conversion_rate"] == 66.7
    events = await keys("events")
    assert events["signup"]["events"] == 2
    plans = await keys("events", name="signup", prop="plan")
    assert {k: r["events"] for k, r in plans.items()} == {"pro": 1, "free": 1}


async def test_filters_combine(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    site = await traffic(app, client, anon)

    async def visitors(**filters: str) -> int:
        answer = await client.get("/api/v1/web/overview", params={"site": site, **filters})
        assert answer.status_code == 200, answer.text
        return int(answer.json()["totals"]["visitors"])

    assert await visitors(channel="AI Assistants") == 1
    assert await visitors(page="/pricing") == 2
    assert await visitors(page="/pricing", channel="Direct") == 1
    assert await visitors(goal="signup") == 2
    assert await visitors(goal="signup", device="desktop") == 2
    assert await visitors(source="newsletter", medium="email", campaign="spring") == 1
    assert await visitors(device="mobile", goal="signup") == 0
    direct: dict[str, str | int] = {"site": site, "channel": "Direct"}
    rows = (await client.get("/api/v1/web/pages", params=direct)).json()["rows"]
    assert [r["key"] for r in rows] == ["/pricing"]


async def test_sorting_paging_and_csv(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    site = await traffic(app, client, anon)
    base: dict[str, str | int] = {"site": site, "sort": "pageviews", "order": "desc"}
    first = (await client.get("/api/v1/web/pages", params={**base, "limit": 1})).json()
    assert first["total_rows"] == 3 and [r["key"] for r in first["rows"]] == ["/pricing"]
    rest = await client.get("/api/v1/web/pages", params={**base, "limit": 2, "offset": 1})
    assert [r["key"] for r in rest.json()["rows"]] == ["/", "/blog/a"]
    by_key = await client.get("/api/v1/web/pages", params={**base, "sort": "key", "order": "asc"})
    assert [r["key"] for r in by_key.json()["rows"]] == ["/", "/blog/a", "/pricing"]
    answer = await client.get("/api/v1/web/channels", params={"site": site, "format": "csv"})
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")  # a spreadsheet reads it as UTF-8
    table = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert list(table[0]) == ["channels", *ROW_FIELDS[1:]]
    assert {r["channels"] for r in table} == {"AI Assistants", "Email", "Direct"}
    overview = await client.get("/api/v1/web/overview", params={"site": site, "format": "csv"})
    assert overview.content.decode("utf-8-sig").startswith("time,visitors,")


async def test_realtime_counts_the_last_five_minutes(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    site = await traffic(app, client, anon)
    now = (await client.get("/api/v1/web/realtime", params={"site": site})).json()
    assert now["visitors"] == 3
    direct = await client.get("/api/v1/web/realtime", params={"site": site, "channel": "Direct"})
    assert direct.json()["visitors"] == 1


@pytest.mark.parametrize(
    ("report", "params", "status", "field"),
    [
        ("pages", {}, 422, "site"),
        ("pages", {"site": "x"}, 422, "site"),
        ("pages", {"site": "1", "sort": "hits"}, 422, "sort"),
        ("pages", {"site": "1", "order": "up"}, 422, "order"),
        ("pages", {"site": "1", "limit": "0"}, 422, "limit"),
        ("pages", {"site": "1", "limit": "5000"}, 422, "limit"),
        ("pages", {"site": "1", "channel": "TV"}, 422, "channel"),
        ("pages", {"site": "1", "prop": "plan"}, 422, "prop"),
        ("events", {"site": "1", "prop": "plan"}, 422, "name"),
        ("events", {"site": "1", "name": "signup", "prop": "pl'an"}, 422, "prop"),
        ("pages", {"site": "1", "format": "xml"}, 422, "format"),
        ("pages", {"site": "1", "colour": "red"}, 400, "colour"),
        ("overview", {"site": "1", "interval": "week"}, 422, "interval"),
        ("pages", {"site": "999"}, 404, None),
        ("nope", {"site": "1"}, 404, None),
    ],
)
async def test_bad_parameters_are_refused_by_name(
    client: httpx.AsyncClient, report: str, params: dict[str, str], status: int, field: str | None
) -> None:
    await make_site(client)
    answer = await client.get(f"/api/v1/web/{report}", params=params)
    assert answer.status_code == status, answer.text
    if field is not None:
        assert answer.json()["error"]["field"] == field


async def test_every_report_answers(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    site = await traffic(app, client, anon)
    for report in ALL_REPORTS:
        answer = await client.get(f"/api/v1/web/{report}", params={"site": site})
        assert answer.status_code == 200, (report, answer.text)
    assert (await anon.get("/api/v1/web/pages", params={"site": site})).status_code == 401


async def test_csv_export_neutralises_formulas_sent_to_e(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    key = await make_site(client)
    body = {"site": key, "url": f"{SITE}/=1+1", "landing": {"utm_source": '=HYPERLINK("x")'}}
    assert (await post_event(anon, body, **{"user-agent": FIREFOX})).status_code == 202
    await app.state.runtime.event_writer.drain()
    sites = (await client.get("/api/v1/sites")).json()["items"]
    site = next(s["id"] for s in sites if s["key"] == key)
    answer = await client.get("/api/v1/web/sources", params={"site": site, "format": "csv"})
    cells = [row[0] for row in csv.reader(io.StringIO(answer.text))][1:]
    assert cells == ['\'=hyperlink("x")'], answer.text  # sources are lower-cased
