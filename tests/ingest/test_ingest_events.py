"""The batched event writer: facts derived, goals reached, back-pressure, retries, drain."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

from firstmark.domain.clicks import ClickSigner
from firstmark.domain.consent import Consent
from firstmark.domain.destinations import Destination
from firstmark.domain.events import RawEvent, parse
from firstmark.domain.goals import Goal
from firstmark.domain.sites import Site, new_key
from firstmark.geo import GeoLookup
from firstmark.ingest.events import EventWriter, GoalCache
from firstmark.store import Store

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"  # noqa: E501
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


async def setup(store: Store) -> tuple[Site, EventWriter]:
    site = await store.insert_site(Site("S", new_key(), ("s.example",)))
    return site, EventWriter(store, GeoLookup(), ClickSigner("k"), GoalCache(store), flush_ms=5)


def raw(site: Site, n: int = 0, ua: str = UA, **fields: Any) -> RawEvent:
    body = {"site": site.key, "url": f"https://s.example/p{n}", **fields}
    assert site.id is not None
    return RawEvent(parse(body), site.id, Consent(analytics=True), time.time(), "8.8.8.8", ua)


async def test_facts_are_derived_and_goals_reached_by_humans_only(store: Store) -> None:
    site, writer = await setup(store)
    await store.insert_goal(Goal("lead", "micro", "form_sent", 20.0, "USD"))
    writer.start()
    await writer.put(raw(site, vid="visitor-1234"))
    await writer.put(raw(site, type="event", name="form_sent", vid="visitor-1234", value=30))
    await writer.put(raw(site, type="event", name="form_sent", ua=BOT))
    await writer.stop()
    assert site.id is not None
    rows = await store.list_events(site.id)
    assert [(r.device_type, r.country, r.is_bot) for r in rows][-1] == ("mobile", "US", False)
    assert rows[0].is_bot
    [conv] = (await store.list_conversions(None, 10, 0))[0]
    assert (conv.goal, conv.value, conv.currency, conv.source) == ("lead", 30.0, "USD", "web")
    assert writer.conversions == 1


async def test_a_full_buffer_makes_producers_wait(store: Store) -> None:
    site, _ = await setup(store)
    writer = EventWriter(
        store, GeoLookup(), ClickSigner("k"), GoalCache(store), capacity=3, batch=3, flush_ms=1000
    )
    for n in range(3):
        assert writer.offer(raw(site, n))
    assert not writer.offer(raw(site, 9))
    waiting = asyncio.create_task(writer.put(raw(site, 4)))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    writer.start()
    await asyncio.wait_for(waiting, 2)
    await writer.stop()
    assert await store.count_events() == 4


class Flaky:
    def __init__(self, store: Store, failures: int) -> None:
        self.store = store
        self.failures = failures

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    async def write_events(self, *batch: Sequence[Any]) -> int:
        if self.failures > 0:
            self.failures -= 1
            raise OSError("database went away")
        return await self.store.write_events(*batch)


async def test_failed_writes_are_retried_and_stop_drains(store: Store) -> None:
    site, _ = await setup(store)
    flaky = Flaky(store, failures=2)
    writer = EventWriter(
        cast(Store, flaky), GeoLookup(), ClickSigner("k"), GoalCache(store), flush_ms=5
    )
    writer.start()
    for n in range(1500):
        await writer.put(raw(site, n))
    await writer.stop()
    assert writer.failures == 2 and writer.depth == 0
    assert await store.count_events() == 1500


class Counting(Flaky):
    """The store, counting how often the destinations are read."""

    def __init__(self, store: Store) -> None:
        super().__init__(store, failures=0)
        self.reads = 0

    async def list_destinations(self) -> list[Destination]:
        self.reads += 1
        return await self.store.list_destinations()


async def test_web_conversions_get_the_outbox_rows_their_consent_allows(store: Store) -> None:
    site, _ = await setup(store)
    await store.insert_goal(Goal("purchase", "macro", "paid", 20.0, "EUR"))
    await store.insert_destination(
        Destination("meta", "meta", "sealed", ("pixel_id",), {"purchase": "Purchase"})
    )
    counting = Counting(store)
    sealed: list[Mapping[str, str]] = []

    def seal(client: Mapping[str, str]) -> str:
        sealed.append(client)
        return "sealed-client"

    writer = EventWriter(
        cast(Store, counting), GeoLookup(), ClickSigner("k"), GoalCache(store), seal_client=seal
    )
    ads = Consent(analytics=True, ad_user_data=True, ad_storage=True)
    landing = {"gclid": "Cj0K"}
    writer.offer(raw(site, 1, type="event", name="paid", vid="visitor-1234", landing=landing))
    await writer.drain()
    assert counting.reads == 0  # analytics consent only: nothing to forward, nothing read
    assert sum((await store.outbox_counts()).values()) == 0
    assert writer.offer(
        raw(site, 2, type="event", name="paid", vid="visitor-1234", landing=landing)._replace(
            consent=ads
        )
    )
    await writer.drain()
    assert counting.reads == 1 and writer.conversions == 2
    [item] = await store.claim_outbox("w", 10, 30)
    assert item.event_name == "Purchase" and item.sealed_client == "sealed-client"
    assert item.click_ids == {"gclid": "Cj0K"}
    assert sealed == [{"ip": "8.8.8.8", "ua": UA, "url": "https://s.example/p2"}]
