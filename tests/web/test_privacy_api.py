"""The privacy API through the app: a real journey, then export, erase and the audit they
leave; consent shares with modelled totals."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from test_collect import GRANTED, make_site, post_event
from test_whole_journey import journey

from firstmark.store import Store

EMAIL = "Buyer.One@Example.com"
# A TCF v2 core string granting purposes 1 and 9: device access and market research.
TCF_1_9 = "CAAAAAAAAAAAAAAAAAAAAAAAAICAAAAAAAAAAA"
EMAIL_HASH = hashlib.sha256(b"buyer.one@example.com").hexdigest()


async def backend_conversion(client: httpx.AsyncClient) -> None:
    sent = await client.post(
        "/api/v1/conversions",
        json={"event_id": "crm-77", "goal": "purchase", "order_id": "A-1001",
              "visitor_id": "buyer-1234567", "value": 50, "currency": "EUR",
              "user_data": {"email": EMAIL}, "consent": {"ad_user_data": "granted",
              "analytics_storage": "granted"}},
    )  # fmt: skip
    assert sent.status_code == 201, sent.text


async def every_text(store: Store) -> str:
    parts: list[str] = []
    for table, columns in (await store.tables()).items():
        async for rows in store.dump_table(table, columns, 500):
            parts += [f"{table}.{c}={v}" for r in rows for c, v in zip(columns, r, strict=True)]
    return "\n".join(parts)


async def test_export_then_erase_by_email_leaves_nothing_of_the_buyer(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    # A webhook endpoint (nothing listens there): her conversions wait in its outbox.
    rt = app.state.runtime
    app.state.runtime = replace(rt, settings=replace(rt.settings, webhook_allow_private=True))
    hook = await client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hooks", "events": ["conversion.created"]},
    )
    assert hook.status_code == 201, hook.text
    await journey(client, anon, app)
    await backend_conversion(client)
    text = await every_text(store)
    assert "buyer-1234567" in text
    bodies = [line for line in text.splitlines() if line.startswith("webhook_outbox.body=")]
    assert len(bodies) == 2 and any(EMAIL_HASH in b and "A-1001" in b for b in bodies)

    export = await client.post("/api/v1/privacy/export", json={"kind": "email", "value": EMAIL})
    assert export.status_code == 200, export.text
    doc = export.json()
    assert doc["kind"] == "email" and doc["truncated"] is False
    # The e-mail leads to the conversion, the conversion to the visitor and all her visits.
    assert {c["event_id"] for c in doc["tables"]["conversions"]} == {"crm-77", "order-1"}
    assert {e["visitor_id"] for e in doc["tables"]["events"]} == {"buyer-1234567"}
    assert len(doc["tables"]["visits"]) == 2 and doc["tables"]["touches"]
    assert len(doc["tables"]["webhook_outbox"]) == 2

    erased = await client.post("/api/v1/privacy/erase", json={"kind": "email", "value": EMAIL})
    assert erased.status_code == 200, erased.text
    tables = erased.json()["tables"]
    assert tables["conversions"] == {"anonymised": 2}
    assert tables["events"]["anonymised"] == 4 and tables["visits"] == {"anonymised": 2}
    assert tables["touches"]["deleted"] >= 1
    assert tables["webhook_outbox"] == {"deleted": 2}

    text = await every_text(store)
    for gone in ("buyer-1234567", "visit-one-1", "visit-two-2", "order-1", "crm-77", "A-1001",
                 EMAIL_HASH, EMAIL.lower()):  # fmt: skip
        assert gone not in text
    # The other visitors are untouched, and the conversions still count.
    assert await store.count_events() == 7
    assert (await store.list_conversions(None, 10, 0))[1] == 2

    audit = await client.get("/api/v1/audit", params={"object_kind": "privacy"})
    assert audit.status_code == 200
    items = audit.json()["items"]
    assert [(i["action"], i["object_id"]) for i in items] == [
        ("erase", "email"),
        ("export", "email"),
    ]
    assert all(i["actor"].startswith("key:") for i in items)
    assert items[0]["detail"]["tables"]["conversions"] == {"anonymised": 2}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "ssn", "value": "x"}, "kind"),
        ({"kind": "email", "value": "not-an-address"}, "value"),
        ({"kind": "phone", "value": "912 34 567"}, "value"),
        ({"kind": "visitor_id", "value": ""}, "value"),
        ({"kind": "visitor_id", "value": "v" * 300}, "value"),
        ({"kind": "visitor_id", "value": "v", "note": "x"}, "note"),
    ],
)
async def test_bad_requests_name_the_field_and_change_nothing(
    client: httpx.AsyncClient, store: Store, body: dict[str, str], field: str
) -> None:
    for route in ("erase", "export"):
        answer = await client.post(f"/api/v1/privacy/{route}", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["field"] == field
    assert (await client.get("/api/v1/audit")).json()["total"] == 0


async def test_privacy_requests_need_an_admin_key(app: Any, make_key: Any, store: Store) -> None:
    key = await make_key("reports:read")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://fm.test", headers={"authorization": f"Bearer {key}"}
    ) as http:
        body = {"kind": "visitor_id", "value": "v-1"}
        assert (await http.post("/api/v1/privacy/erase", json=body)).status_code == 403
        assert (await http.post("/api/v1/privacy/export", json=body)).status_code == 403
        assert (await http.get("/api/v1/audit")).status_code == 403
        assert (await http.get("/api/v1/privacy/consent")).status_code == 200


async def test_consent_shares_and_modelled_totals(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await journey(client, anon, app)
    today = datetime.now(UTC).date()
    answer = await client.get(
        "/api/v1/privacy/consent",
        params={"from": str(today - timedelta(days=1)), "to": str(today)},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    states = {s["state"]: s for s in body["states"]}
    assert list(states) == ["none", "analytics", "ads", "full", "gpc", "tcf"]
    # Two visits of the consenting buyer, two without consent.
    assert (states["full"]["visits"], states["none"]["visits"]) == (2, 2)
    assert states["full"]["visit_share"] == 0.5
    assert states["full"]["conversions"] == 1 and states["full"]["conversion_share"] == 1.0
    assert states["full"]["identified_events"] == 4 and states["none"]["identified_events"] == 0
    assert states["none"]["forwarded"] == "nothing"
    assert body["observed"] == {"visits": 4, "conversions": 1}
    modelled = body["modelled"]
    assert modelled["label"].startswith("modelled")
    assert modelled["analytics_share"] == 0.5 and modelled["conversions"] == 2.0
    retention = body["retention"]  # the retention in force, per data class; no purge yet
    assert retention["hits"] == {"days": 395, "last_purge": None, "deleted": 0}
    assert retention["credits"]["days"] == 0  # kept for ever


KNOWN = {"from", "to", "site"}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"from": "yesterday"}, "from"), ({"site": "abc"}, "site"), ({"sites": "1"}, "sites")],
)
async def test_consent_refuses_bad_parameters(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    answer = await client.get("/api/v1/privacy/consent", params=params)
    # A parameter the route does not declare is a bad request (400); a bad value is 422.
    assert answer.status_code == (422 if field in KNOWN else 400)
    assert answer.json()["error"]["field"] == field


async def test_consent_for_one_site(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    await journey(client, anon, app)
    other = await make_site(client, "other.example")
    body = {"site": other, "url": "https://other.example/", "consent": GRANTED, "vid": "o-1234567"}
    assert (await post_event(anon, body, origin="https://other.example")).status_code == 202
    await app.state.runtime.event_writer.drain()
    sites = (await client.get("/api/v1/sites")).json()["items"]
    other_id = next(s["id"] for s in sites if s["key"] == other)
    answer = (await client.get("/api/v1/privacy/consent", params={"site": other_id})).json()
    assert answer["observed"] == {"visits": 1, "conversions": 0}
    missing = await client.get("/api/v1/privacy/consent", params={"site": 999})
    assert missing.status_code == 404


async def test_consent_decided_by_a_tcf_string_is_shown_apart(
    app: Any, client: httpx.AsyncClient, anon: httpx.AsyncClient, store: Store
) -> None:
    key = await make_site(client)
    page = {"site": key, "url": "https://shop.example/", "sid": "tcf-visit-1",
            "vid": "tcf-visitor-1", "tcf": TCF_1_9}  # fmt: skip
    assert (await post_event(anon, page)).status_code == 202
    plain = {"site": key, "url": "https://shop.example/", "sid": "cm-visit-1",
             "vid": "cm-visitor-1", "consent": {"analytics_storage": "granted"}}  # fmt: skip
    assert (
        await post_event(anon, plain, **{"user-agent": "Mozilla/5.0 Firefox/128.0"})
    ).status_code == 202
    await app.state.runtime.event_writer.drain()
    [tcf_row] = [e for e in await store.list_events(1) if e.visitor_id == "tcf-visitor-1"]
    assert tcf_row.consent == "analytics:tcf"
    body = (await client.get("/api/v1/privacy/consent")).json()
    states = {s["state"]: s for s in body["states"]}
    assert states["analytics"]["visits"] == 2
    assert (states["tcf"]["visits"], states["tcf"]["visit_share"]) == (1, 0.5)
    assert body["observed"]["visits"] == 2
