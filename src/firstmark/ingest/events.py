"""The batched event writer: `POST /e` appends, this task derives facts and writes.

Same design as the hit writer (bounded buffer, back-pressure, one transaction per batch, drain
on stop), with its own buffer so events never slow clicks down. Here the address and user agent
of each event are turned into a country, a device class and the daily visitor hash, then
dropped; events that reach a goal become conversions in the same transaction.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

from firstmark.domain.attribution import last_non_direct
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.conversions import Conversion, touch_click_ids
from firstmark.domain.devices import Device, classify
from firstmark.domain.events import Event, RawEvent, Touch, click_ids_of, utm_of
from firstmark.domain.goals import Goal
from firstmark.domain.hits import referrer_host
from firstmark.domain.visitors import day_of, visitor_day_hash
from firstmark.geo import GeoLookup
from firstmark.ingest.batch import BatchWriter
from firstmark.ingest.salts import DailySalts
from firstmark.store.protocol import Store

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
        self.conversions = 0

    async def _write(self, raws: list[RawEvent]) -> None:
        salts = {day: await self.salts.for_day(day) for day in {day_of(raw.ts) for raw in raws}}
        goals = await self.goals.by_event()
        events: list[Event] = []
        touches: list[Touch] = []
        wins: list[tuple[RawEvent, Goal, int | None]] = []
        for raw in raws:
            event, touch, link_id = self._row(raw, salts[day_of(raw.ts)])
            events.append(event)
            if touch is not None:
                touches.append(touch)
            goal = goals.get(raw.event.name) if raw.event.kind != "pageview" else None
            if goal is not None and not event.is_bot:
                wins.append((raw, goal, link_id))
        conversions = [await self._conversion(raw, goal, link, touches) for raw, goal, link in wins]
        self.conversions += await self.store.write_events(events, touches, conversions)

    def _row(self, raw: RawEvent, salt: bytes) -> tuple[Event, Touch | None, int | None]:
        """The stored event, its touch (with consent, on a landing), and the link it came from."""
        given, agreed = raw.event, raw.consent
        device = self.classify_ua(raw.user_agent)
        token = given.landing.get(self.token_param)
        click = self.signer.verify(token) if token else None
        link_id = click.link_id if click else None
        utm = utm_of(given.landing)
        keep = agreed.identifiers
        event = Event(
            site_id=raw.site_id,
            ts=raw.ts,
            kind=given.kind,
            name=given.name,
            path=given.path,
            visitor_day_hash=visitor_day_hash(salt, given.host, raw.ip, raw.user_agent),
            consent=agreed.label,
            referrer_host=referrer_host(given.referrer[:2048], given.host),
            link_id=link_id,
            visitor_id=given.visitor_id if keep else None,
            session_id=given.session_id if keep else None,
            value=given.value,
            currency=given.currency,
            country=self.geo.lookup(raw.ip).country if raw.ip else None,
            device_type=device.device_type,
            is_bot=device.is_bot,
            props=given.props,
            **utm,
        )
        touch = None
        click_ids = click_ids_of(given.landing) if agreed.click_ids else {}
        if keep and (link_id is not None or utm["utm_source"] or click_ids):
            touch = Touch(
                ts=raw.ts,
                site_id=raw.site_id,
                visitor_id=given.visitor_id,
                click_token=token if click else None,
                link_id=link_id,
                click_ids=click_ids,
                utm_source=utm["utm_source"],
                utm_medium=utm["utm_medium"],
                utm_campaign=utm["utm_campaign"],
                utm_term=utm["utm_term"],
                utm_content=utm["utm_content"],
            )
        return event, touch, link_id

    async def _conversion(
        self, raw: RawEvent, goal: Goal, link_id: int | None, batch: Sequence[Touch]
    ) -> Conversion:
        given, agreed = raw.event, raw.consent
        assert goal.id is not None
        touch = None
        visitor = given.visitor_id if agreed.identifiers else None
        if visitor is not None:
            since = raw.ts - goal.window_days * 86400
            earlier = await self.store.touches_for(visitor, None, since, raw.ts)
            here = [t for t in batch if t.visitor_id == visitor]
            touch = last_non_direct([*earlier, *here], raw.ts, goal.window_days)
        value, money = given.value, given.currency or goal.currency
        if value is None and goal.default_value is not None:
            value, money = goal.default_value, goal.currency
        click_ids: dict[str, str] = {}
        if agreed.click_ids:  # the attributed touch's, then this page's own
            landed = click_ids_of(given.landing)
            if "fbclid" in landed:
                landed["fbclid_at"] = str(int(raw.ts * 1000))
            click_ids = {**touch_click_ids(touch), **landed}
        sealed = None
        if agreed.forwarding and self.seal_client is not None:
            # For platforms that take them (Meta, TikTok, …): sealed in the outbox row only,
            # erased once it is sent or dead. The page without its query.
            page = f"{urlsplit(given.url).scheme}://{given.host}{given.path}"
            found = {"ip": raw.ip, "ua": raw.user_agent, "url": page}
            sealed = self.seal_client({k: v for k, v in found.items() if v})
        return Conversion(
            event_id=given.event_id or f"web-{uuid.uuid4().hex}",
            goal_id=goal.id,
            goal=goal.name,
            ts=raw.ts,
            consent=agreed,
            source="web",
            value=value,
            currency=money,
            visitor_id=visitor,
            link_id=link_id if link_id is not None else touch.link_id if touch else None,
            utm_source=touch.utm_source if touch else None,
            utm_medium=touch.utm_medium if touch else None,
            utm_campaign=touch.utm_campaign if touch else None,
            site_id=raw.site_id,
            click_ids=click_ids,
            sealed_client=sealed,
        )
