"""Visits are the same whether the SQLite store tells open visits from memory (ADR 0039) or
looks each one up in the table: with a writer that holds few visits itself, and a restart after
a kill in the middle."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

from firstmark.domain.clicks import ClickSigner
from firstmark.domain.consent import Consent
from firstmark.domain.events import RawEvent, parse
from firstmark.domain.sites import Site, new_key
from firstmark.domain.visits import Visit
from firstmark.geo import GeoLookup
from firstmark.ingest.events import EventWriter, GoalCache
from firstmark.store.sqlite.store import SQLiteStore
from sqlitetools import killed, opened

T0 = 1_764_000_000.0
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def timeline(site: Site) -> list[list[RawEvent]]:
    """Batches of five events over three hours, from 12 sessions that come back after gaps
    short and long (a new visit after 30 minutes), some landing from a campaign."""
    rng = random.Random(7)
    ts, events = T0, []
    for n in range(240):
        ts += rng.choice((5.0, 60.0, 240.0)) if n % 9 else 0.0
        who = rng.randrange(12)
        body = {"site": site.key, "url": f"https://s.example/p{n % 7}", "sid": f"sess-{who:04d}"}
        if rng.random() < 0.1:
            body["url"] += "?utm_source=news&utm_campaign=c" + str(rng.randrange(2))
        assert site.id is not None
        events.append(RawEvent(parse(body), site.id, Consent(analytics=True), ts, "", UA))
    return [events[i : i + 5] for i in range(0, len(events), 5)]


def writer(store: SQLiteStore) -> EventWriter:
    out = EventWriter(store, GeoLookup(), ClickSigner("k"), GoalCache(store))
    out.visits.capacity = 2  # the writer holds two visits: the others are asked of the store
    return out


async def visits_of(path: Path, *, memory: bool) -> list[Visit]:
    store = await opened(path)
    if not memory:
        store._open_visits.claim = lambda path: False  # type: ignore[method-assign]
    site = await store.insert_site(Site("S", new_key(), ("s.example",)))
    batches = timeline(site)
    first = writer(store)
    for batch in batches[:20]:
        await first._write(batch)
    if memory:
        assert store._open_visits.ready
        await killed(store)
        store = await opened(path)
    second = writer(store)
    for batch in batches[20:]:
        await second._write(batch)
    assert site.id is not None
    found = await store.list_visits(site.id, limit=1000)
    await store.close()
    # The day hashes differ: each database has its own salt.
    same = (replace(v, id=None, visitor_day_hash="") for v in found)
    return sorted(same, key=lambda v: (v.key, v.started))


async def test_visits_from_memory_are_those_of_the_table(tmp_path: Path) -> None:
    held = await visits_of(tmp_path / "held.db", memory=True)
    looked_up = await visits_of(tmp_path / "table.db", memory=False)
    assert len(held) > 24 and max(v.pageviews for v in held) > 5  # visits came back
    assert held == looked_up
