"""`firstmark demo`: writes the generated demo dataset (domain/demo.py) through the store."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

from firstmark.domain import calls, conversions, demo, demo_web, sites
from firstmark.domain.calls import CallEvent, Lease
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.goals import Goal
from firstmark.domain.numbers import TrackingNumber
from firstmark.domain.sites import Site
from firstmark.domain.visits import visit_touch
from firstmark.services import numbers
from firstmark.services.conversions import outbox_for
from firstmark.services.transfer import ProgressBar
from firstmark.store import Store

CHUNK = 500
GRANTED = Consent(analytics=True, ad_storage=True, ad_user_data=True)
SITE_DAYS = 10  # days of site traffic written in one transaction


async def seed(store: Store, today: date, hash_key: bytes, now: float | None = None) -> str:
    """Links, 90 days of clicks and scans, ad costs, goals, journeys and conversions, tracking
    numbers and their calls, and a website with 90 days of visits and its funnels. `hash_key`
    hashes the (made-up) callers as real ones are. With `now`, nothing later than it is
    written: today's data ends at the current time."""
    plan = demo.plan(today)
    until = math.inf if now is None else now
    link_ids = []
    for link in plan.links:
        saved = await store.insert_link(link)
        assert saved.id is not None
        link_ids.append(saved.id)
    goals = {}
    for goal in (
        Goal(name="purchase", kind="macro", currency="EUR", window_days=30),
        Goal(name="newsletter-signup", kind="micro", default_value=5.0, currency="EUR",
             window_days=30),
    ):  # fmt: skip
        saved_goal = await store.insert_goal(goal)
        assert saved_goal.id is not None
        goals[goal.name] = saved_goal
    journeys = [j for j in demo.journeys(plan) if j.ts <= until]

    demo_calls = [c for c in demo.calls(plan) if c.ts + (c.talk_s or 0) <= until]
    bar = ProgressBar(2 * len(plan.days) + len(journeys) + len(demo_calls))
    hits = 0
    for day, batch in zip(plan.days, demo.hits(plan, link_ids), strict=True):
        batch = [h for h in batch if h.ts <= until]
        await store.write_hits(batch)
        hits += len(batch)
        bar.advance("clicks and scans", 1, day.toordinal() - plan.days[0].toordinal() + 1,
                    len(plan.days))  # fmt: skip
    costs = demo.costs(plan)
    await store.replace_costs(costs)

    consent = Consent(analytics=True, ad_storage=True, ad_user_data=True)
    revenue = 0.0
    for start in range(0, len(journeys), CHUNK):
        chunk = journeys[start : start + CHUNK]
        touches = [t for j in chunk for t in demo.touches_of(j, link_ids)]
        await store.write_events([], touches, [])
        made = []
        for number, journey in enumerate(chunk, start=start):
            goal = goals[journey.goal]
            conversion = conversions.build(
                goal,
                event_id=f"demo-{number}",
                ts=journey.ts,
                consent=consent,
                source="web",
                value=float(journey.value) if journey.value is not None else None,
                currency="EUR",
                visitor_id=journey.visitor,
                touch=conversions.credited_touch(
                    demo.touches_of(journey, link_ids), journey.ts, goal
                ),
            )
            revenue += conversion.value or 0.0
            made.append(conversion)
        await store.insert_conversions(made, await outbox_for(store, made))
        bar.advance("journeys", len(chunk), start + len(chunk), len(journeys))
    qualified = await _calls(store, demo_calls, link_ids, hash_key, plan.days[0])
    bar.advance("calls", len(demo_calls), len(demo_calls), len(demo_calls))
    web = await _site(store, plan.days, goals, until, bar)
    bar.close()
    spend = sum(c.spend for c in costs)
    return (
        f"demo data: {len(link_ids)} links, {hits:,} clicks and scans over {len(plan.days)} "
        f"days, {len(costs):,} cost rows ({spend:,.2f} EUR), {len(journeys):,} conversions "
        f"({revenue:,.2f} EUR), {1 + len(demo.POOL_NUMBERS)} tracking numbers with "
        f"{len(demo_calls):,} calls ({qualified:,} qualified); {web}"
    )


async def _site(
    store: Store, days: list[date], goals: dict[str, Goal], until: float, bar: ProgressBar
) -> str:
    """The shop's website (domain/demo_web.py): a site, its funnels, 90 days of visits with
    their events, touches and conversions, a few days per transaction."""
    site = await store.insert_site(Site("Demo shop", sites.new_key(), (demo_web.HOST,)))
    assert site.id is not None
    for funnel in demo_web.funnels(site.id):
        await store.insert_funnel(funnel)
    totals = {"events": 0, "visits": 0, "conversions": 0}
    pending: list[demo_web.Day] = []
    for index, day in enumerate(demo_web.site_days(site.id, days, until=until), start=1):
        pending.append(day)
        if len(pending) == SITE_DAYS or index == len(days):
            made = [c for d in pending for c in _conversions(d, goals, site.id)]
            await store.write_events(
                [e for d in pending for e in d.events],
                [t for d in pending for t in d.touches],
                made,
                await outbox_for(store, made),
                [v for d in pending for v in d.visits],
            )
            totals["events"] += sum(len(d.events) for d in pending)
            totals["visits"] += sum(1 for d in pending for v in d.visits if not v.is_bot)
            totals["conversions"] += len(made)
            pending = []
            bar.advance("site visits", SITE_DAYS, index, len(days))
    return (
        f"site {demo_web.HOST} (id {site.id}) with {totals['visits']:,} visits, "
        f"{totals['events']:,} events, {totals['conversions']:,} goal conversions and "
        f"{len(demo_web.FUNNELS)} funnels"
    )


def _conversions(day: demo_web.Day, goals: dict[str, Goal], site_id: int) -> list[Conversion]:
    """The goals a day's visitors reached, credited as `/e` credits them: over the visitor's
    touches with consent, else to the visit's own entry (unless direct)."""
    out = []
    for win in day.wins:
        event = day.events[win.event]
        goal = goals[win.goal]
        if win.touches is not None:
            touch = conversions.credited_touch(win.touches, event.ts, goal)
        else:
            touch = None if win.visit.direct else visit_touch(win.visit)
        out.append(
            conversions.build(
                goal,
                event_id=f"demo-web-{win.visit.key}",
                ts=event.ts,
                consent=GRANTED if event.visitor_id else Consent(),
                source="web",
                value=win.value,
                currency="EUR" if win.value is not None else None,
                visitor_id=event.visitor_id,
                touch=touch,
                site_id=site_id,
            )
        )
    return out


async def _numbers(store: Store, link_ids: list[int], now: float) -> list[TrackingNumber]:
    """The poster's static number and the web pool, registered as the dashboard would."""
    line = {"provider": "twilio", "forward_to": demo.SHOP_LINE}
    poster = demo.CHANNELS[demo.POSTER]
    found = [
        await numbers.register(
            store,
            {**line, "number": demo.STATIC_NUMBER, "link_id": link_ids[demo.POSTER],
             "label": f"Poster {poster.placement}"},
            now,
        )
    ]  # fmt: skip
    await numbers.set_pool(store, demo.POOL, {"fallback": demo.SHOP_LINE}, now)
    for index, e164 in enumerate(demo.POOL_NUMBERS, start=1):
        body = {**line, "number": e164, "pool": demo.POOL, "label": f"Web {index}"}
        found.append(await numbers.register(store, body, now))
    return found


async def _calls(
    store: Store,
    planned: list[demo.DemoCall],
    link_ids: list[int],
    hash_key: bytes,
    first_day: date,
) -> int:
    """Each call stored whole (as its last webhook leaves it); the qualified ones become
    conversions of the goal "call", attributed as the webhook path attributes them."""
    start = (first_day - date(1970, 1, 1)).days * demo.DAY
    found = await _numbers(store, link_ids, float(start))
    goal = await numbers.ensure_call_goal(store)
    poster = demo.CHANNELS[demo.POSTER]
    bound = {
        "campaign": poster.campaign, "utm_source": poster.source, "utm_medium": poster.medium,
        "utm_campaign": poster.campaign, "utm_content": poster.content,
    }  # fmt: skip
    converted = []
    for index, planned_call in enumerate(planned):
        number = found[planned_call.number]
        lease = None
        if planned_call.channel is not None:
            channel = demo.CHANNELS[planned_call.channel]
            lease = Lease(
                id=f"demo-{index}",
                pool=demo.POOL,
                started=planned_call.ts - 600,
                expires=planned_call.ts + 1200,
                link_id=link_ids[planned_call.channel],
                utm_source=channel.source,
                utm_medium=channel.medium,
                utm_campaign=channel.campaign,
                utm_content=channel.content,
            )
        ring = CallEvent("twilio", f"CAdemo{index:06d}", planned_call.ts, "ringing",
                         to=number.e164, caller=planned_call.caller)  # fmt: skip
        end = CallEvent("twilio", ring.call_id, planned_call.ts + 8 + (planned_call.talk_s or 20),
                        planned_call.status, duration_s=planned_call.talk_s)  # fmt: skip
        first = calls.new_call(
            ring, number, lease=lease, link=bound if number.static else None, hash_key=hash_key
        )
        first = replace(calls.merge(first, end), lease_id=None)  # the lease was never stored
        stored, _ = await store.apply_call(first, end)
        if stored is not None and calls.qualifies(stored, number):
            converted.append(
                (stored, calls.to_conversion(stored, number, goal, lease=lease, caller=None))
            )
    made = [conversion for _, conversion in converted]
    saved = await store.insert_conversions(made, await outbox_for(store, made))
    for (call, _), (conversion, _) in zip(converted, saved, strict=True):
        assert call.id is not None and conversion.id is not None
        await store.set_call_conversion(call.id, conversion.id)
    return len(converted)
