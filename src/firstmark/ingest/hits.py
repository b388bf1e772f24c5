"""The hit writer: clicks and scans, batched (see batch.py) and enriched on the way in.

Every batch turns raw hits into stored hits (device, bot flag, country, daily visitor hash: the
address and user agent are dropped here) and writes them in one transaction with the rollups.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from firstmark.domain.devices import Device, classify
from firstmark.domain.hits import Hit, RawHit, to_hit
from firstmark.domain.visitors import DAY
from firstmark.geo import GeoLookup
from firstmark.ingest.batch import BatchWriter
from firstmark.ingest.salts import DailySalts
from firstmark.store import Store

log = logging.getLogger("firstmark.ingest")


class HitWriter(BatchWriter[RawHit]):
    """Clicks and scans: enriched (device, bot flag, country, daily hash) and written with the
    rollups."""

    what = "hits"

    def __init__(
        self,
        store: Store,
        geo: GeoLookup,
        *,
        capacity: int = 10_000,
        batch: int = 1_000,
        flush_ms: int = 50,
        classify_ua: Callable[[str], Device] = classify,
        feed: Callable[[Sequence[Hit]], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(store, capacity=capacity, batch=batch, flush_ms=flush_ms)
        self.geo = geo
        self.feed = feed  # sees every written batch (the click webhooks)
        self.classify_ua = classify_ua
        self.salts = DailySalts(store)

    async def _write(self, raws: list[RawHit]) -> None:
        hits = await self._enrich(raws)
        await self.store.write_hits(hits, hold=True)
        if self.feed is not None:
            try:
                await self.feed(hits)
            except Exception:  # stored already: a failing feed must not write them again
                log.exception("the hit feed failed")

    async def settle(self, *, force: bool = False) -> None:
        """The rollup increments the store holds between batches (SQLite, ADR 0031)."""
        await self.store.settle_hits(force=force)

    async def _enrich(self, raws: list[RawHit]) -> list[Hit]:
        """Raw hits → stored hits. Identical requests in a batch (same visitor, page, day) are
        enriched once; the address and user agent end here."""
        days = [int(raw.ts // DAY) for raw in raws]  # day_of, inlined: once per click
        salts = {day: await self.salts.for_day(day) for day in set(days)}
        done: dict[tuple[object, ...], tuple[object, ...]] = {}
        hits: list[Hit] = []
        for raw, day in zip(raws, days, strict=True):
            key = (day, raw.host, raw.ip, raw.user_agent, raw.referer, raw.accept_language)
            derived = done.get(key)
            if derived is None:
                hit = to_hit(
                    raw,
                    salt=salts[day],
                    device=self.classify_ua(raw.user_agent),
                    geo=self.geo.lookup(raw.ip),
                )
                done[key] = derived = hit[3:-1]
                hits.append(hit)
            else:
                hits.append(Hit(raw.link_id, raw.ts, raw.kind, *derived, raw.variant))  # type: ignore[arg-type, call-arg]
        return hits
