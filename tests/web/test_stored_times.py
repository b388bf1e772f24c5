"""A stored row never breaks a page: a conversion whose `ts` no datetime can hold (written
before times were checked, or by hand) still lists in the API and on the dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from conftest import BASE_URL
from dashtools import PASSWORD, log_in, make_client
from firstmark.app import create_app
from firstmark.config import Settings
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.goals import Goal
from firstmark.domain.keys import new_key
from firstmark.domain.passwords import hash_password
from firstmark.store import Store

# 0001-01-01T00:00:00+14:00 is before year 1 in UTC; 1e13 is past year 9999.
BAD_TIMES = (-62135647200.0, 1e13)


@pytest.fixture
async def engine_app(settings: Settings, any_store: Store) -> AsyncIterator[Any]:
    application = create_app(settings, any_store)
    yield application


async def test_a_conversion_with_an_impossible_time_never_breaks_a_reader(
    engine_app: Any, any_store: Store
) -> None:
    goal = await any_store.insert_goal(Goal(name="purchase", created_at=datetime.now(UTC)))
    await any_store.insert_conversions(
        [
            Conversion(event_id=f"odd-{i}", goal_id=goal.id or 0, ts=ts,
                       consent=Consent(analytics=True), source="server")
            for i, ts in enumerate(BAD_TIMES)
        ]
    )  # fmt: skip
    shown, key = new_key(("admin",))
    await any_store.insert_api_key(key)
    transport = httpx.ASGITransport(app=engine_app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, headers={"authorization": f"Bearer {shown}"}
    ) as api:
        listed = await api.get("/api/v1/conversions")
        assert listed.status_code == 200, listed.text
        items = listed.json()["items"]
        assert {i["event_id"] for i in items} == {"odd-0", "odd-1"}
        assert all(i["ts"] is None for i in items)  # unreadable, shown as unknown
        one = await api.get(f"/api/v1/conversions/{items[0]['id']}")
        assert one.status_code == 200
    await any_store.insert_user("admin", hash_password(PASSWORD), "owner")
    async with await make_client(engine_app) as dash:
        assert (await log_in(dash)).status_code == 303
        page = await dash.get("/dashboard/conversions")
        assert page.status_code == 200
        assert "odd-0" in page.text or "purchase" in page.text
