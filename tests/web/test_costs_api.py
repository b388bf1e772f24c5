"""Importing ad-cost exports over the API, and reading the totals back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from firstmark.store import Store

META = (
    "Reporting starts,Reporting ends,Campaign name,Amount spent (EUR),Impressions,Link clicks\n"
    "2026-11-01,2026-11-01,Black Friday,55.20,4100,61\n"
    "2026-11-02,2026-11-02,Black Friday,40.00,3000,40\n"
)


async def totals(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    r = await client.get(
        "/api/v1/costs", params={"from": "2026-11-01", "to": "2026-11-30", **params}
    )
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()["rows"]
    return rows


async def test_upload_a_meta_export_then_reimport_it(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/costs/import", files={"file": ("meta.csv", META.encode(), "text/csv")}
    )
    assert r.status_code == 201, r.text
    assert r.json() == {
        "preset": "meta",
        "imported": 2,
        "replaced": 0,
        "skipped_rows": 1,
        "spend": {"EUR": "95.20"},
        "periods": [
            {
                "source": "facebook",
                "medium": "paid-social",
                "from": "2026-11-01",
                "to": "2026-11-02",
            }
        ],
    }
    again = await client.post(
        "/api/v1/costs/import?preset=meta", content=META, headers={"content-type": "text/csv"}
    )
    assert again.status_code == 201 and again.json()["replaced"] == 2
    # Both imports are in the audit log, by the key that made them: counts, never rows.
    logged = (await client.get("/api/v1/audit", params={"object_kind": "cost"})).json()
    assert logged["total"] == 2
    newest = logged["items"][0]
    assert newest["action"] == "import" and newest["actor"].startswith("key:")
    assert newest["detail"]["replaced"] == 2 and newest["detail"]["spend"] == {"EUR": "95.20"}
    assert await totals(client, group_by="source,campaign") == [
        {
            "source": "facebook",
            "campaign": "black-friday",
            "currency": "EUR",
            "spend": "95.20",
            "impressions": 7100,
            "clicks": 101,
        }
    ]


async def test_a_bad_file_lists_its_rows_and_stores_nothing(
    client: httpx.AsyncClient, store: Store
) -> None:
    bad = META + "2026-11-31,2026-11-31,Black Friday,-3,10,1\n"
    r = await client.post("/api/v1/costs/import", content=bad)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid_file" and error["field"] == "file"
    assert error["rows"] == [
        {"row": 4, "column": "date", "message": "'2026-11-31' is not a date (use YYYY-MM-DD)"},
        {"row": 4, "column": "spend", "message": "spend must not be negative"},
    ]
    assert await store.cost_totals(0, 10**6, []) == []


async def test_bad_requests_name_the_field(client: httpx.AsyncClient) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"content": b""}, "file"),
        ({"content": META, "params": {"preset": "myspace"}}, "preset"),
        ({"content": "Été".encode("latin-1")}, "file"),
        ({"files": {"upload": ("x.csv", b"a", "text/csv")}}, "file"),
    ]
    for kwargs, field in cases:
        r = await client.post("/api/v1/costs/import", **kwargs)
        assert r.status_code == 422, (field, r.text)
        assert r.json()["error"]["field"] == field
    r = await client.post("/api/v1/costs/import", content=META, params={"colour": "red"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "colour"
    r = await client.get("/api/v1/costs", params={"group_by": "spend"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "group_by"


async def test_importing_needs_the_costs_scope(
    anon: httpx.AsyncClient, make_key: Callable[..., Any]
) -> None:
    key = await make_key("reports:read")
    r = await anon.post(
        "/api/v1/costs/import", content=META, headers={"authorization": f"Bearer {key}"}
    )
    assert r.status_code == 403
    key = await make_key("costs:write")
    r = await anon.post(
        "/api/v1/costs/import", content=META, headers={"authorization": f"Bearer {key}"}
    )
    assert r.status_code == 201
