"""`firstmark demo`: writes the generated demo dataset (domain/demo.py) through the store."""

from __future__ import annotations

from datetime import date

from firstmark.domain import demo
from firstmark.domain.attribution import last_non_direct
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.goals import Goal
from firstmark.store.base import Store
from firstmark.transfer import ProgressBar

CHUNK = 500


async def seed(store: Store, today: date) -> str:
    """Links, 90 days of clicks and scans, ad costs, goals, journeys and conversions."""
    plan = demo.plan(today)
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
    journeys = demo.journeys(plan)

    bar = ProgressBar(len(plan.days) + len(journeys))
    hits = 0
    for day, batch in zip(plan.days, demo.hits(plan, link_ids), strict=True):
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
        conversions = []
        for number, journey in enumerate(chunk, start=start):
            credited = last_non_direct(demo.touches_of(journey, link_ids), journey.ts, 30)
            goal = goals[journey.goal]
            value = float(journey.value) if journey.value is not None else goal.default_value
            revenue += value or 0.0
            assert goal.id is not None
            conversions.append(
                Conversion(
                    event_id=f"demo-{number}",
                    goal_id=goal.id,
                    ts=journey.ts,
                    consent=consent,
                    source="web",
                    value=value,
                    currency="EUR",
                    visitor_id=journey.visitor,
                    link_id=credited.link_id if credited else None,
                    utm_source=credited.utm_source if credited else None,
                    utm_medium=credited.utm_medium if credited else None,
                    utm_campaign=credited.utm_campaign if credited else None,
                )
            )
        await store.insert_conversions(conversions)
        bar.advance("journeys", len(chunk), start + len(chunk), len(journeys))
    bar.close()
    spend = sum(c.spend for c in costs)
    return (
        f"demo data: {len(link_ids)} links, {hits:,} clicks and scans over {len(plan.days)} "
        f"days, {len(costs):,} cost rows ({spend:,.2f} EUR), {len(journeys):,} conversions "
        f"({revenue:,.2f} EUR)"
    )
