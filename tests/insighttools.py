"""Seeding for the customers and budget reports: goals, touches, conversions and costs put
straight into a store, with known answers."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from firstmark.domain import conversions
from firstmark.domain.consent import Consent
from firstmark.domain.costs import CostRow
from firstmark.domain.events import Touch
from firstmark.domain.goals import Goal
from firstmark.store import Store

DAY = 86_400
AGREED = Consent(analytics=True)
TODAY = datetime.now(UTC).date()


def midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


async def order_goal(store: Store) -> Goal:
    return await store.insert_goal(Goal("order", currency="EUR", window_days=30))


async def sell(
    store: Store,
    goal: Goal,
    event_id: str,
    ts: float,
    value: float,
    *,
    visitor: str | None = None,
    customer: str | None = None,
    consent: Consent = AGREED,
) -> None:
    """One conversion, as a backend would send it."""
    built = conversions.build(
        goal, event_id=event_id, ts=ts, consent=consent, source="server", value=value,
        currency="EUR", visitor_id=visitor, customer_hash=customer,
    )  # fmt: skip
    await store.insert_conversions([built])


async def touch(store: Store, visitor: str, ts: float, source: str, medium: str) -> None:
    await store.write_events(
        [], [Touch(ts, visitor_id=visitor, utm_source=source, utm_medium=medium)], []
    )


def spends(days: int, seed: int, low: float = 50, high: float = 400) -> list[float]:
    rng = random.Random(seed)
    return [round(rng.uniform(low, high), 2) for _ in range(days)]


async def seed_budget(
    store: Store, channels: Sequence[tuple[str, str, Sequence[float], Callable[[float], float]]]
) -> date:
    """For each (source, medium, daily spends, true curve): a cost row a day and, that day, one
    visitor who comes through the channel and buys for what the curve gives at that spend.
    The days end yesterday; the first day is returned."""
    goal = await order_goal(store)
    days = len(channels[0][2])
    first = TODAY - timedelta(days=days)
    rows = []
    for source, medium, daily, curve in channels:
        for i, spend in enumerate(daily):
            day = first + timedelta(days=i)
            rows.append(CostRow(day, source, medium, "always-on", Decimal(str(spend)), "EUR"))
            noon = midnight(day) + DAY / 2
            visitor = f"{source}-{i:04d}-visitor"
            await touch(store, visitor, noon, source, medium)
            await sell(store, goal, f"{source}-{i}", noon + 60, round(curve(spend), 2),
                       visitor=visitor)  # fmt: skip
    await store.replace_costs(rows)
    return first
