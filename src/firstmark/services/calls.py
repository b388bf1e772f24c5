"""Calls: what happens when a provider tells us about a call, whichever provider it is, and
the call counts shown beside clicks and scans.

The webhook layer (web/callhooks.py) checks the signature and reads the request into a
`CallEvent`; here the call is matched to its number and its lease or static binding, stored
once per provider call id, and, when it has lasted long enough, turned into a conversion that
goes to the outbox in the conversion's own transaction. Nothing here calls out of the process,
so a webhook is answered in a few milliseconds.

The counts the stats API, the QR scan report and the dashboard show for a link, some links, or
a group of links are each one grouped query (Store.call_totals) over the calls of the range,
whatever the number of links.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from firstmark.domain import calls
from firstmark.domain.calls import Call, CallEvent, Lease
from firstmark.domain.dimensions import CALL_GROUP_COLUMNS
from firstmark.domain.goals import Goal
from firstmark.domain.numbers import TrackingNumber
from firstmark.services import webhooks
from firstmark.services.conversions import outbox_for
from firstmark.services.numbers import ensure_call_goal
from firstmark.store import CallTotal, Store


@dataclass(frozen=True)
class Handled:
    """The call after the event, and the number it came in on (None: not one of ours)."""

    number: TrackingNumber | None
    call: Call | None
    converted: bool = False  # this event made the call a conversion


async def _link_fields(store: Store, link_id: int | None) -> dict[str, Any] | None:
    if link_id is None:
        return None
    link = await store.get_link(link_id)
    if link is None:
        return None
    return {
        "campaign": link.campaign,
        "utm_source": link.utm_source,
        "utm_medium": link.utm_medium,
        "utm_campaign": link.utm_campaign,
        "utm_content": link.utm_content,
    }


async def _first(store: Store, event: CallEvent, hash_key: bytes) -> Handled:
    """The call as it would be stored if this event is the first we hear of it."""
    number = await store.number_by_e164(event.to) if event.to else None
    if number is None or number.id is None:
        return Handled(None, None)
    lease = await store.lease_at(number.id, event.ts) if number.pool else None
    link = await _link_fields(store, number.link_id) if lease is None else None
    first = calls.new_call(event, number, lease=lease, link=link, hash_key=hash_key)
    return Handled(number, first)


async def incoming(store: Store, event: CallEvent, hash_key: bytes) -> Handled:
    """A call comes in: stored (once, however often the provider retries) and matched.
    Handled.number is None for a number we do not track (or have released)."""
    found = await _first(store, event, hash_key)
    if found.call is None:
        return found
    after, _ = await store.apply_call(found.call, event)
    if after is not None:
        after = await _remember_caller(store, after, event, hash_key)
    return Handled(found.number, after)


async def _lease(store: Store, call: Call) -> Lease | None:
    """The lease the call was attributed to (its visitor's consent), if any."""
    lease = await store.lease_at(call.number_id, call.started) if call.lease_id else None
    return lease if lease is not None and lease.id == call.lease_id else None


async def _remember_caller(store: Store, call: Call, event: CallEvent, hash_key: bytes) -> Call:
    """Keep the caller a webhook names on a call stored without one (providers name the
    caller on some events only, and the first to arrive may not be one of them)."""
    if not event.caller or call.id is None:
        return call
    if call.caller_hash and (call.caller_hashed or call.lease_id is None):
        return call
    lease = await _lease(store, call)
    filled = calls.with_caller(call, event.caller, lease.consent if lease else None, hash_key)
    if filled != call:
        await store.set_call_caller(filled)
    return filled


async def progress(store: Store, event: CallEvent, hash_key: bytes) -> Handled:
    """A later event of a call: ringing, answered, ended. A call that ends having lasted its
    number's qualifying time becomes a conversion (once: its event id is the call's id)."""
    first = None
    if event.to and await store.get_call(event.provider, event.call_id) is None:
        # the provider's first word was lost (or is still on its way): this event starts it
        first = (await _first(store, event, hash_key)).call
    after, before = await store.apply_call(first, event)
    if after is None:
        return Handled(None, None)
    await webhooks.call_changed(store, before, after)
    after = await _remember_caller(store, after, event, hash_key)
    number = await store.get_number(after.number_id)
    if number is None or after.conversion_id is not None or not calls.qualifies(after, number):
        return Handled(number, after)
    return await _convert(store, after, number, event.caller)


async def _goal(store: Store, number: TrackingNumber) -> Goal:
    for goal in await store.list_goals():
        if goal.name == number.goal_name:
            return goal
    return await ensure_call_goal(store)  # the number's own goal was removed: count it anyway


async def _convert(store: Store, call: Call, number: TrackingNumber, caller: str | None) -> Handled:
    assert call.id is not None
    lease = await _lease(store, call)
    conversion = calls.to_conversion(
        call, number, await _goal(store, number), lease=lease, caller=caller
    )
    outbox = await outbox_for(store, [conversion])
    [(saved, _duplicate)] = await store.insert_conversions([conversion], outbox)
    assert saved.id is not None
    await store.set_call_conversion(call.id, saved.id)
    qualified = replace(call, conversion_id=saved.id)
    await webhooks.call_qualified(store, qualified)
    if not _duplicate:
        await webhooks.conversions_created(store, [saved])
    return Handled(number, qualified, converted=True)


# Call counts beside clicks and scans

NO_CALLS = CallTotal((), 0, 0, 0, 0)
# Why a group has no call counts, for the answers that leave them out.
NOT_BY_TAG = "calls are not counted by tag: a call keeps its campaign and UTM tags, not tags"


def fields(total: CallTotal | None) -> dict[str, int]:
    """A group's calls as the API and templates name them."""
    found = total or NO_CALLS
    return {
        "calls": found.calls,
        "answered_calls": found.answered,
        "qualified_calls": found.qualified,
    }


def empty() -> dict[str, None]:
    """No call counts (a grouping calls do not have)."""
    return {"calls": None, "answered_calls": None, "qualified_calls": None}


async def by_group(
    store: Store, group_by: str, start: float, end: float
) -> dict[str | None, CallTotal] | None:
    """Calls started in [start, end) by a stats group (campaign, utm_*); None by tag."""
    if group_by not in CALL_GROUP_COLUMNS:
        return None
    return {t.value: t for t in await store.call_totals(group_by, start, end)}


async def by_link(
    store: Store, link_ids: Sequence[int], start: float, end: float
) -> dict[int, CallTotal]:
    """Calls started in [start, end) attributed to each of `link_ids`."""
    if not link_ids:
        return {}
    found = await store.call_totals("link_id", start, end, list(link_ids))
    return {int(t.value): t for t in found if t.value is not None}


def added(totals: Mapping[int, CallTotal] | Sequence[CallTotal]) -> CallTotal:
    """Several groups' calls added up."""
    values = totals.values() if isinstance(totals, Mapping) else totals
    out = NO_CALLS
    for t in values:
        out = CallTotal(
            (),
            out.calls + t.calls,
            out.answered + t.answered,
            out.qualified + t.qualified,
            out.talk_seconds + t.talk_seconds,
        )
    return out
