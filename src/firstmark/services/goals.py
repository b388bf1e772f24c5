"""Adding goals: what the API, the dashboard and `firstmark goal add` all do."""

from __future__ import annotations

from firstmark.domain import goals
from firstmark.domain.goals import Goal
from firstmark.domain.times import now
from firstmark.store import Store


async def create(store: Store, data: object) -> Goal:
    """A goal read from user input and stored; a taken name is a `Conflict`. Callers holding
    a goal cache invalidate it."""
    return await store.insert_goal(goals.new_goal(data, now()))
