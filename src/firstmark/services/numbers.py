"""Registering, changing and releasing tracking numbers and pools: what the API, the CLI and
the dashboard all do, in one place. References (link, goal, site) are checked here, before
anything is stored."""

from __future__ import annotations

from firstmark.domain import numbers
from firstmark.domain.goals import Goal
from firstmark.domain.numbers import Pool, TrackingNumber
from firstmark.domain.phones import loose_e164
from firstmark.errors import InvalidField, NotFound
from firstmark.store import Store

CALL_GOAL = "call"


async def _check_references(store: Store, number: TrackingNumber) -> None:
    if number.link_id is not None and await store.get_link(number.link_id) is None:
        raise InvalidField("link_id", f"no link with id {number.link_id}", code="unknown_link")
    goals = {g.name for g in await store.list_goals()}
    if number.goal is not None and number.goal not in goals:
        raise InvalidField("goal", f"no goal named {number.goal!r}", code="unknown_goal")


async def ensure_call_goal(store: Store) -> Goal:
    """The goal a qualified call reaches unless its number names another; made on first use."""
    for goal in await store.list_goals():
        if goal.name == CALL_GOAL:
            return goal
    return await store.insert_goal(Goal(name=CALL_GOAL, kind="macro"))


async def register(store: Store, body: object, now: float) -> TrackingNumber:
    number = numbers.parse_new(body, now)
    await _check_references(store, number)
    if number.goal is None:
        await ensure_call_goal(store)
    if number.pool is not None and await store.get_pool(number.pool) is None:
        await store.upsert_pool(Pool(name=number.pool, created_at=now))
    return await store.insert_number(number)


async def change(store: Store, current: TrackingNumber, body: object, now: float) -> TrackingNumber:
    number = numbers.parse_changes(current, body)
    await _check_references(store, number)
    if number.pool is not None and await store.get_pool(number.pool) is None:
        await store.upsert_pool(Pool(name=number.pool, created_at=now))
    return await store.update_number(number)


async def find(store: Store, ref: str | int) -> TrackingNumber:
    """By id, or by the number itself (any format with a country code)."""
    if isinstance(ref, int) or ref.isdigit():
        found = await store.get_number(int(ref))
    else:
        e164 = loose_e164(ref.replace(" ", "").replace("-", ""))
        found = await store.number_by_e164(e164) if e164 else None
    if found is None or found.released_at is not None:
        raise NotFound(f"no tracking number {ref!r}")
    return found


async def release(store: Store, ref: str | int, now: float) -> TrackingNumber:
    """Stop tracking a number: its calls stay; a new number may take the same digits."""
    number = await find(store, ref)
    assert number.id is not None
    await store.release_number(number.id, now)
    return number


async def set_pool(store: Store, name: str, body: object, now: float) -> Pool:
    """Create or change a pool; `site` (a site key or id) makes it that site's default."""
    pool = numbers.parse_pool(name, body, now)
    site_ref = body.get("site") if isinstance(body, dict) else None
    if site_ref is not None:
        found = [s for s in await store.list_sites() if str(site_ref) in (str(s.id), s.key)]
        if not found:
            raise InvalidField("site", f"no site with key or id {site_ref!r}", code="unknown_site")
        pool = Pool(
            name=pool.name,
            fallback=pool.fallback,
            site_id=found[0].id,
            lease_s=pool.lease_s,
            created_at=now,
        )
    return await store.upsert_pool(pool)
