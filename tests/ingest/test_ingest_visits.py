"""The event writer builds visits: a retried batch counts its pageviews once, a restarted
writer continues the open visit from the database."""

from __future__ import annotations

from typing import cast

from test_ingest_events import Flaky, raw, setup

from firstmark.domain.clicks import ClickSigner
from firstmark.geo import GeoLookup
from firstmark.ingest.events import EventWriter, GoalCache
from firstmark.store import Store


async def test_a_retried_batch_counts_its_pageviews_once(store: Store) -> None:
    site, _ = await setup(store)
    assert site.id is not None
    first = EventWriter(store, GeoLookup(), ClickSigner("k"), GoalCache(store), flush_ms=5)
    first.start()
    await first.put(raw(site, 0, referrer="https://chatgpt.com/"))
    await first.stop()
    # A failing store for the next batches: they are retried until written.
    flaky = Flaky(store, failures=2)
    writer = EventWriter(
        cast(Store, flaky), GeoLookup(), ClickSigner("k"), GoalCache(store), flush_ms=5
    )
    writer.start()
    for n in range(1, 4):
        assert writer.offer(raw(site, n))
    await writer.stop()
    assert writer.failures == 2
    [visit] = await store.list_visits(site.id)
    # The second writer found the open visit in the database and extended it.
    assert (visit.pageviews, visit.channel, visit.exit_path) == (4, "AI Assistants", "/p3")
