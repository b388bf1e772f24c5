"""The demo of docs/attribution.md, seeded into a store: e-mail opens most of the journeys
that end in a sale, search closes them.

- 200 visitors: a newsletter e-mail three days before, a search ad an hour before, then a
  purchase of 50 EUR;
- 200 visitors: the newsletter only, no purchase;
- 100 visitors: the search ad only; 20 of them buy for 50 EUR.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.events import Touch
from firstmark.domain.goals import Goal
from firstmark.store import Store

DAY = 86_400


def email(ts: float, visitor_id: str) -> Touch:
    return Touch(ts, visitor_id=visitor_id, utm_source="newsletter", utm_medium="email")


def search(ts: float, visitor_id: str) -> Touch:
    return Touch(ts, visitor_id=visitor_id, utm_source="google", utm_medium="cpc")


async def seed_demo(store: Store, *, scale: int = 1, goal: str = "purchase") -> None:
    """The journeys above, `scale` times over, for the goal named `goal`."""
    found = {g.name: g for g in await store.list_goals()}
    goal_row = found.get(goal) or await store.insert_goal(
        Goal(name=goal, created_at=datetime.now(UTC))
    )
    now = time.time() - 600
    touches: list[Touch] = []
    buyers: list[str] = []
    for n in range(200 * scale):
        visitor = f"{goal}-both-{n}"
        touches.append(email(now - 3 * DAY, visitor_id=visitor))
        touches.append(search(now - 3600, visitor_id=visitor))
        buyers.append(visitor)
    for n in range(200 * scale):
        touches.append(email(now - 2 * DAY, visitor_id=f"{goal}-mail-{n}"))
    for n in range(100 * scale):
        visitor = f"{goal}-search-{n}"
        touches.append(search(now - 7200, visitor_id=visitor))
        if n < 20 * scale:
            buyers.append(visitor)
    await store.write_events([], touches, [])
    await store.insert_conversions(
        [
            Conversion(
                event_id=f"{goal}-order-{visitor}", goal_id=goal_row.id or 0, ts=now,
                consent=Consent(), source="server", value=50.0, currency="EUR",
                visitor_id=visitor, utm_source="google", utm_medium="cpc",
            )
            for visitor in buyers
        ]
    )  # fmt: skip
