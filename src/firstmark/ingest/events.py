"""The batched event writer: `POST /e` appends, this task derives facts and writes.

A `BatchWriter` (batch.py) of its own, so events never slow clicks down. Each event becomes
its stored row and touch (`domain.events.to_rows`: the address and user agent end there);
events that reach a goal become conversions (`domain.conversions.from_event`), written in the
same transaction with the outbox rows `domain.destinations.outbox_targets` gives them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

from firstmark.domain.clicks import ClickSigner
from firstmark.domain.conversions import Conversion, credited_touch, from_event
from firstmark.domain.destinations import OutboxTarget, outbox_targets
from firstmark.domain.devices import Device, classify
from firstmark.domain.events import Event, RawEvent, Touch, click_ids_of, in_visit, to_rows
from firstmark.domain.goals import Goal
from firstmark.domain.visitors import day_of
from firstmark.domain.visits import Visit, converted, entry_touch, visit_touch
from firstmark.geo import GeoLookup
from firstmark.ingest.batch import BatchWriter
from firstmark.ingest.salts import DailySalts
from firstmark.ingest.visits import RuleCache, Step, Visits
from firstmark.services import webhooks
from firstmark.store import Store

GOALS_TTL_S = 5.0


class GoalCache:
    """Goals by the event name that reaches them; re-read every few seconds or when told."""

    def __init__(self, store: Store, ttl: float = GOALS_TTL_S) -> None:
        self.store = store
        self.ttl = ttl
        self._goals: dict[str, Goal] = {}
        self._until = 0.0

    def invalidate(self) -> None:
        self._until = 0.0

    async def by_event(self) -> dict[str, Goal]:
        now = time.monotonic()
        if now >= self._until:
            self._goals = {g.matches: g for g in await self.store.list_goals()}
            self._until = now + self.ttl
        return self._goals


class EventWriter(BatchWriter[RawEvent]):
    what = "events"

    def __init__(
        self,
        store: Store,
        geo: GeoLookup,
        signer: ClickSigner,
        goals: GoalCache,
        *,
        token_param: str = "fm_click",
        capacity: int = 10_000,
        batch: int = 1_000,
        flush_ms: int = 50,
        classify_ua: Callable[[str], Device] = classify,
        seal_client: Callable[[Mapping[str, str]], str] | None = None,
    ) -> None:
        super().__init__(store, capacity=capacity, batch=batch, flush_ms=flush_ms)
        self.seal_client = seal_client
        self.geo = geo
        self.signer = signer
        self.goals = goals
        self.token_param = token_param
        self.classify_ua = classify_ua
        self.salts = DailySalts(store)
        self.rules = RuleCache(store)
        self.visits = Visits(store, self.rules)
        self.conversions = 0

    async def _write(self, raws: list[RawEvent]) -> None:
        salts = {day: await self.salts.for_day(day) for day in {day_of(raw.ts) for raw in raws}}
        goals = await self.goals.by_event()
        events: list[Event] = []
        touches: list[Touch] = []
        steps: list[Step] = []
        made: list[Touch | None] = []
        for raw in raws:
            device = self.classify_ua(raw.user_agent)
            event, touch = to_rows(
                raw,
                salt=salts[day_of(raw.ts)],
                device=device,
                geo=self.geo.lookup(raw.ip) if raw.ip else None,
                signer=self.signer,
                token_param=self.token_param,
            )
            events.append(event)
            made.append(touch)
            if touch is not None:
                touches.append(touch)
            steps.append(Step(event, device, tuple(click_ids_of(raw.event.landing))))
        changed, placed = await self.visits.apply(steps)
        events = [in_visit(e, v.key, v.started) for e, (v, _) in zip(events, placed, strict=True)]
        wins: list[tuple[RawEvent, Goal, int | None, Visit]] = []
        for raw, event, touch, (visit, new) in zip(raws, events, made, placed, strict=True):
            if new and touch is None:
                # A visit's entry without tags (a referrer, an AI answer, or direct) is a
                # touch too; tagged landings made theirs above.
                entry = entry_touch(visit, click_ids=click_ids_of(raw.event.landing)
                                    if raw.consent.click_ids else {})  # fmt: skip
                if entry is not None:
                    touches.append(entry)
            goal = goals.get(raw.event.name) if raw.event.kind != "pageview" else None
            if goal is not None and not event.is_bot:
                wins.append((raw, goal, event.link_id, visit))
        conversions = []
        for raw, goal, link, visit in wins:
            conversions.append(await self._conversion(raw, goal, link, touches, visit))
            changed = self._count_conversion(changed, visit, raw)
        outbox: list[list[OutboxTarget]] = []
        if any(c.consent.forwarding for c in conversions):
            destinations = await self.store.list_destinations()
            outbox = [outbox_targets(c, destinations) for c in conversions]
        try:
            self.conversions += await self.store.write_events(
                events, touches, conversions, outbox, changed
            )
        except BaseException:
            # The batch is written again later: the store, not this memory, holds the visits
            # as they were before it.
            self.visits.forget()
            raise
        if conversions:  # a repeated event_id keeps its webhook-id and is not sent again
            await webhooks.conversions_created(self.store, conversions)

    def _count_conversion(self, changed: list[Visit], visit: Visit, raw: RawEvent) -> list[Visit]:
        """The batch's changed visits with one more conversion on `visit`'s latest state."""
        out = []
        for held in changed:
            if (held.site_id, held.key, held.started) == (visit.site_id, visit.key, visit.started):
                held = converted(held, raw.event.value)
                self.visits.update(held)
            out.append(held)
        return out

    async def _conversion(
        self,
        raw: RawEvent,
        goal: Goal,
        link_id: int | None,
        batch: Sequence[Touch],
        visit: Visit | None = None,
    ) -> Conversion:
        """The conversion of an event that reached a goal, credited to the visitor's touches
        (stored ones, and those of this batch); without consent, to its own visit's entry
        (same visit, same day: docs/privacy.md)."""
        given, agreed = raw.event, raw.consent
        touch = None
        visitor = given.visitor_id if agreed.identifiers else None
        if visitor is not None:
            since = raw.ts - goal.window_days * 86400
            earlier = await self.store.touches_for(visitor, None, since, raw.ts)
            here = [t for t in batch if t.visitor_id == visitor]
            touch = credited_touch([*earlier, *here], raw.ts, goal)
        elif visit is not None and not visit.direct:
            touch = visit_touch(visit)
        sealed = None
        if agreed.forwarding and self.seal_client is not None:
            # For platforms that take them (Meta, TikTok, …): sealed in the outbox row only,
            # erased once it is sent or dead. The page without its query.
            page = f"{urlsplit(given.url).scheme}://{given.host}{given.path}"
            found = {"ip": raw.ip, "ua": raw.user_agent, "url": page}
            sealed = self.seal_client({k: v for k, v in found.items() if v})
        return from_event(raw, goal, link_id=link_id, touch=touch, sealed_client=sealed)
