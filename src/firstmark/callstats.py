"""Calls beside clicks and scans: the call counts the stats API, the QR scan report and the
dashboard show for a link, some links, or a group of links. Each is one grouped query
(Store.call_totals) over the calls of the range, whatever the number of links."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from firstmark.store.base import CALL_GROUPS, CallTotal, Store

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
    if group_by not in CALL_GROUPS:
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
