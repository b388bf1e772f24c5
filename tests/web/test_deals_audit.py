"""A CRM deals import is one audit entry, from the API, the command line or the dashboard: who
imported, the preset and the counts, never a deal's id, e-mail or phone; a dry run is none."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_dashboard_deals import TODAY, upload

from firstmark.cli.main import main
from firstmark.config import Settings

PIPEDRIVE = Path(__file__).parent.parent / "fixtures" / "deals" / "pipedrive.csv"


async def deal_entries(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/audit", params={"object_kind": "deal"})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_an_api_import_is_recorded_with_the_key_and_the_counts(
    client: httpx.AsyncClient,
) -> None:
    deals = [
        {"deal_id": "API-1", "stage": "won", "ts": int(time.time()), "value": 10,
         "currency": "EUR", "email": "buyer@example.com", "phone": "+4791234567"},
        {"deal_id": "API-2", "stage": "lost", "ts": int(time.time())},
    ]  # fmt: skip
    dry = await client.post("/api/v1/conversions/import", json={"deals": deals, "dry_run": True})
    assert dry.status_code == 200, dry.text
    assert await deal_entries(client) == []
    answer = await client.post(
        "/api/v1/conversions/import", json={"deals": deals, "action_source": "physical_store"}
    )
    assert answer.status_code == 201, answer.text
    csv = b"deal_id,stage,ts,value,currency\nAPI-3,won,%d,5,EUR\n" % int(time.time())
    sent = await client.post(
        "/api/v1/conversions/import", params={"preset": "generic"}, content=csv,
        headers={"content-type": "text/csv"},
    )  # fmt: skip
    assert sent.status_code == 201, sent.text

    items = await deal_entries(client)
    key_prefix = client.headers["authorization"].split("_")[1]
    assert [(i["actor"], i["action"], i["object_id"]) for i in items] == [
        (f"key:{key_prefix}", "import", None)
    ] * 2
    assert items[0]["detail"] == {"preset": "generic", "rows": 1, "imported": 1, "matched": 0,
                                  "unmatched": 1, "action_source": "system_generated"}  # fmt: skip
    assert items[1]["detail"] == {"preset": None, "rows": 2, "imported": 1, "matched": 0,
                                  "unmatched": 2, "action_source": "physical_store"}  # fmt: skip
    for secret in ("API-1", "buyer@example.com", "4791234567"):
        assert secret not in str(items)


async def test_a_cli_import_is_recorded_as_cli(
    client: httpx.AsyncClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FIRSTMARK_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FIRSTMARK_SECRET_KEY", "test-secret")
    command = ["import", "deals", str(PIPEDRIVE), "--preset", "pipedrive"]
    assert await asyncio.to_thread(main, [*command, "--dry-run"]) == 0
    assert await deal_entries(client) == []
    assert await asyncio.to_thread(main, command) == 0
    assert "imported 2 conversions" in capsys.readouterr().out

    [entry] = await deal_entries(client)
    assert (entry["actor"], entry["action"]) == ("cli", "import")
    assert entry["detail"] == {"preset": "pipedrive", "rows": 2, "imported": 2, "matched": 0,
                               "unmatched": 2, "action_source": "system_generated"}  # fmt: skip
    assert "kari@example.no" not in str(entry) and "101" not in str(entry["detail"])


async def test_a_dashboard_upload_is_recorded_with_the_user(
    dash: httpx.AsyncClient,
    client: httpx.AsyncClient,
) -> None:
    body = (
        "Opportunity ID,Stage,Amount,Opportunity Currency,Close Date,Email\n"
        f"006A,Closed Won,100,EUR,{TODAY},a@example.com\n"
        f"006B,Closed Lost,,EUR,{TODAY},\n"
        f"006C,Negotiation,,EUR,{TODAY},\n"
    )
    dry = await upload(dash, body, preset="salesforce", dry_run="on")
    assert dry.status_code == 303
    assert "Checked, nothing stored" in (await dash.get("/dashboard/deals")).text
    assert await deal_entries(client) == []
    answer = await upload(dash, body, preset="salesforce", action_source="physical_store")
    assert answer.status_code == 303

    [entry] = await deal_entries(client)
    assert (entry["actor"], entry["action"]) == ("user:admin", "import")
    assert entry["detail"] == {"preset": "salesforce", "rows": 3, "imported": 2, "matched": 0,
                               "unmatched": 3, "action_source": "physical_store"}  # fmt: skip
    assert "a@example.com" not in str(entry) and "006A" not in str(entry)
