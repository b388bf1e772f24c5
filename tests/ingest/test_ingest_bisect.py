"""One bad row never blocks the queue: a batch that fails because of a row is split until
that row is found; the good rows are stored, the bad one counted and logged without content.
A database that is down is retried as a whole, never split into drops."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from test_ingest_events import raw

from conftest import BASE_URL
from firstmark.app import create_app
from firstmark.config import Settings
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.keys import new_key
from firstmark.domain.sites import Site
from firstmark.domain.sites import new_key as new_site_key
from firstmark.errors import StoreUnavailable
from firstmark.geo import GeoLookup
from firstmark.ingest.batch import BatchWriter
from firstmark.ingest.events import EventWriter, GoalCache
from firstmark.store import Store, create_store

SECRET = "hunter2-\u00e9"  # stands for a bad row's content; must never reach the log


class Picky(BatchWriter[str]):
    """Refuses any batch holding a row starting with 'bad' (as PostgreSQL refuses NUL)."""

    what = "rows"

    def __init__(self, error: Exception) -> None:
        super().__init__(None, batch=1000, flush_ms=1)  # type: ignore[arg-type]
        self.error = error
        self.stored: list[str] = []
        self.writes = 0

    async def _write(self, raws: list[str]) -> None:
        self.writes += 1
        if any(r.startswith("bad") for r in raws):
            raise self.error
        self.stored += raws


async def test_a_row_level_failure_splits_the_batch(caplog: pytest.LogCaptureFixture) -> None:
    writer = Picky(ValueError(f"cannot store {SECRET}"))
    rows = [f"good-{n}" for n in range(100)]
    rows[37] = f"bad {SECRET}"
    rows[80] = f"bad {SECRET}"
    writer.rate.cap = len(rows)  # the whole batch buffered at once (the cap is measured)
    for row in rows:
        assert writer.offer(row)
    with caplog.at_level(logging.ERROR, "firstmark.writer"):
        await writer.drain()
    assert writer.stored == [r for r in rows if r.startswith("good")]
    assert (writer.rejected, writer.written, writer.depth) == (2, 98, 0)
    assert writer.writes < 30  # halves, not one write per row
    assert "dropped 1 of the rows" in caplog.text and SECRET not in caplog.text


async def test_a_database_failure_is_retried_whole_never_dropped() -> None:
    writer = Picky(StoreUnavailable("the database is down"))
    for row in ("good-1", "bad", "good-2"):
        writer.offer(row)
    with pytest.raises(StoreUnavailable):
        await writer.flush_once()
    assert (writer.depth, writer.rejected, writer.writes) == (3, 0, 1)


@pytest.fixture
async def pg_store(pg_url: str) -> AsyncIterator[Store]:
    store = create_store(pg_url)
    await store.open()
    await store.migrate()
    try:
        yield store
    finally:
        await store.close()


async def test_on_postgresql_a_nul_event_is_dropped_and_the_rest_stored(
    pg_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    site = await pg_store.insert_site(Site("S", new_site_key(), ("s.example",)))
    writer = EventWriter(pg_store, GeoLookup(), ClickSigner("k"), GoalCache(pg_store))
    bad = raw(site, 99)
    bad = bad._replace(event=replace(bad.event, path=f"/{SECRET}\x00"))
    for n in range(10):
        await writer.put(raw(site, n) if n != 4 else bad)
    with caplog.at_level(logging.ERROR, "firstmark.writer"):
        await writer.drain()
    assert site.id is not None
    paths = sorted(e.path for e in await pg_store.list_events(site.id))
    assert paths == sorted(f"/p{n}" for n in range(10) if n != 4)
    assert (writer.rejected, writer.depth) == (1, 0)
    assert SECRET not in caplog.text


async def test_on_postgresql_nul_is_refused_at_the_edge_and_counted_in_metrics(
    settings: Settings, pg_store: Store
) -> None:
    app = create_app(settings, pg_store)
    shown, key = new_key(("admin",))
    await pg_store.insert_api_key(key)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        auth = {"authorization": f"Bearer {shown}"}
        made = await http.post("/api/v1/sites", json={"hosts": ["shop.example"]}, headers=auth)
        site_key = made.json()["key"]
        headers = {"content-type": "text/plain", "origin": "https://shop.example"}
        for body, field in (
            ({"url": "https://shop.example/\u0000"}, "url"),
            ({"props": {"plan": "pro\u0000"}}, "props.plan"),
            ({"props": {"plan": "\ud800"}}, "props.plan"),
            ({"value": 2**70, "currency": "EUR", "type": "conversion", "name": "x"}, "value"),
        ):
            event = {"site": site_key, "url": "https://shop.example/", **body}
            answer = await http.post("/e", content=json.dumps(event).encode(), headers=headers)
            assert answer.status_code == 422, answer.text
            assert answer.json()["error"]["field"] == field
        good = {"site": site_key, "url": "https://shop.example/ok"}
        answer = await http.post("/e", content=json.dumps(good).encode(), headers=headers)
        assert answer.status_code == 202
        await app.state.runtime.event_writer.drain()
        site = await pg_store.site_by_key(site_key)
        assert site is not None and site.id is not None
        assert [e.path for e in await pg_store.list_events(site.id)] == ["/ok"]
        metrics = (await http.get("/metrics")).text
        assert 'firstmark_rows_rejected_total{writer="events"} 0' in metrics
