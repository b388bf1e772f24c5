"""The Store contract for call tracking: numbers, DNI pools and leases, calls and their totals.

Leases go to the number free the longest and never to two sessions at once; a webhook merges
into its call however often and in whatever order it arrives, concurrent ones included.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest

from firstmark.domain.calls import Call, CallEvent, Lease, new_call
from firstmark.domain.consent import Consent
from firstmark.domain.links import Link
from firstmark.domain.numbers import DEFAULT_LEASE_S, Pool, TrackingNumber
from firstmark.errors import Conflict, InvalidField, NotFound
from firstmark.store import create_store
from firstmark.store.protocol import CallQuery, CallTotal, Store

T0 = 1_764_072_000.0  # 2025-11-25 12:00 UTC
DAY = 86_400.0
FULL = Consent(analytics=True, ad_storage=True, ad_user_data=True, ad_personalization=True)
KEY = b"k" * 32


def number(e164: str, pool: str | None = None, **kw: Any) -> TrackingNumber:
    return TrackingNumber(
        e164=e164, provider="twilio", forward_to="+4722000000", pool=pool, created_at=T0,
        **kw,
    )  # fmt: skip


def lease(
    lease_id: str, pool: str = "web", started: float = T0, ttl: float = 1800, **kw: Any
) -> Lease:
    return Lease(id=lease_id, pool=pool, started=started, expires=started + ttl, **kw)


async def pool_of(store: Store, size: int, pool: str = "web") -> list[TrackingNumber]:
    return [await store.insert_number(number(f"+4740{n:06d}", pool)) for n in range(size)]


# --- numbers ------------------------------------------------------------------------------


async def test_numbers_are_stored_changed_listed_and_released(any_store: Store) -> None:
    saved = await any_store.insert_number(number("+4740000001", label="Poster", campaign="x"))
    assert saved.id is not None
    assert replace(saved, id=None) == number("+4740000001", label="Poster", campaign="x")
    assert await any_store.get_number(saved.id) == saved
    assert await any_store.number_by_e164("+4740000001") == saved
    with pytest.raises(Conflict):
        await any_store.insert_number(number("+4740000001", pool="web"))

    changed = await any_store.update_number(
        replace(saved, label="Stand", campaign=None, pool="web", qualify_s=30, record=True,
                fallback_to="+4722000001", hours="mon-fri 09:00-17:00", timezone="Europe/Oslo",
                goal="lead", e164="+4799999999", provider="telnyx")
    )  # fmt: skip
    assert (changed.label, changed.pool, changed.campaign, changed.qualify_s) == (
        "Stand", "web", None, 30,
    )  # fmt: skip
    assert changed.record and changed.hours == "mon-fri 09:00-17:00" and changed.goal == "lead"
    assert (changed.e164, changed.provider) == ("+4740000001", "twilio")  # never change
    assert await any_store.get_number(saved.id) == changed
    with pytest.raises(NotFound):
        await any_store.update_number(replace(saved, id=saved.id + 1000))

    other = await any_store.insert_number(number("+4740000002"))
    assert [n.id for n in await any_store.list_numbers()] == [saved.id, other.id]
    assert await any_store.release_number(saved.id, T0 + 10) is True
    assert await any_store.release_number(saved.id, T0 + 20) is False  # already released
    assert await any_store.release_number(saved.id + 1000, T0) is False
    assert await any_store.number_by_e164("+4740000001") is None
    assert [n.id for n in await any_store.list_numbers()] == [other.id]
    every = await any_store.list_numbers(released=True)
    assert [(n.id, n.released_at) for n in every] == [(saved.id, T0 + 10), (other.id, None)]
    # A released number's E.164 may be registered again, as a new number.
    again = await any_store.insert_number(number("+4740000001"))
    assert again.id not in (saved.id, other.id)
    assert await any_store.number_by_e164("+4740000001") == again


async def test_a_number_is_bound_to_a_link_that_exists(any_store: Store) -> None:
    link = await any_store.insert_link(Link(destination="https://a.example/", code="poster"))
    bound = await any_store.insert_number(number("+4740000001", link_id=link.id))
    assert bound.link_id == link.id and bound.static
    with pytest.raises(InvalidField) as missing:
        await any_store.insert_number(number("+4740000002", link_id=(link.id or 0) + 99))
    assert missing.value.field == "link_id"
    with pytest.raises(InvalidField):
        await any_store.update_number(replace(bound, link_id=(link.id or 0) + 99))
    assert await any_store.number_by_e164("+4740000002") is None


# --- pools and leases ---------------------------------------------------------------------


async def test_pools_are_set_up_and_counted(any_store: Store) -> None:
    saved = await any_store.upsert_pool(Pool("web", fallback="+4722000009", lease_s=600))
    assert saved.created_at is not None and (saved.fallback, saved.lease_s) == ("+4722000009", 600)
    changed = await any_store.upsert_pool(Pool("web", fallback=None, lease_s=900, created_at=T0))
    assert changed == replace(saved, fallback=None, lease_s=900)  # created_at stays
    assert await any_store.get_pool("web") == changed
    assert await any_store.get_pool("shop") is None
    await any_store.upsert_pool(Pool("empty"))
    await any_store.upsert_pool(Pool("e_2"))
    await any_store.upsert_pool(Pool("e-1"))

    numbers = await pool_of(any_store, 3)
    await any_store.insert_number(number("+4741000000", "shop"))  # a pool never set up
    await any_store.insert_number(number("+4742000000"))  # static
    await any_store.take_lease(lease("a", ttl=100), T0)
    await any_store.take_lease(lease("b", ttl=300), T0)
    assert numbers[2].id is not None
    await any_store.release_number(numbers[2].id, T0)

    listed = await any_store.list_pools(T0 + 200)
    assert [(p.name, n, leased) for p, n, leased in listed] == [
        ("e-1", 0, 0), ("e_2", 0, 0), ("empty", 0, 0), ("shop", 1, 0), ("web", 2, 1),
    ]  # fmt: skip
    assert listed[3][0] == Pool("shop", lease_s=DEFAULT_LEASE_S)
    assert listed[4][0] == changed
    assert [leased for _, _, leased in await any_store.list_pools(T0 + 50)] == [0, 0, 0, 0, 2]


async def test_a_lease_takes_the_number_free_longest_until_none_is_left(
    any_store: Store,
) -> None:
    numbers = await pool_of(any_store, 3)
    await any_store.insert_number(number("+4742000000"))  # static: never leased
    first = [await any_store.take_lease(lease(x, ttl=ttl), T0) for x, ttl in
             (("a", 100), ("b", 50), ("c", 200))]  # fmt: skip
    assert [(x.number_id, x.e164) for x in first if x] == [(n.id, n.e164) for n in numbers]
    assert first[0] == replace(lease("a", ttl=100), number_id=numbers[0].id, e164=numbers[0].e164)
    assert await any_store.take_lease(lease("d"), T0 + 10) is None  # all leased
    assert await any_store.take_lease(lease("e", pool="other"), T0) is None  # no such pool

    # At T0+150 b's number has been free since T0+50, a's since T0+100, c's is still leased.
    later = [await any_store.take_lease(lease(x, started=T0 + 150), T0 + 150) for x in "fgh"]
    assert [x.number_id if x else None for x in later] == [numbers[1].id, numbers[0].id, None]
    # A lease holds its number up to its last second.
    assert await any_store.take_lease(lease("i", started=T0 + 200), T0 + 200) is None
    taken = await any_store.take_lease(lease("j", started=T0 + 201), T0 + 201)
    assert taken is not None and taken.number_id == numbers[2].id


async def test_released_numbers_are_never_leased(any_store: Store) -> None:
    [only] = await pool_of(any_store, 1)
    assert only.id is not None
    assert await any_store.release_number(only.id, T0)
    assert await any_store.take_lease(lease("a"), T0 + 1) is None


async def test_a_lease_keeps_only_what_consent_allows(any_store: Store) -> None:
    await pool_of(any_store, 2)
    source: dict[str, Any] = dict(
        visitor_id="v1", click_token="ct", link_id=None, utm_source="google", utm_medium="cpc",
        utm_campaign="spring", utm_term="shoes", utm_content="ad1", referrer_host="google.com",
        click_ids={"gclid": "G1"}, site_id=None,
    )  # fmt: skip
    full = await any_store.take_lease(lease("full", consent=FULL, **source), T0)
    assert full is not None and full.number_id is not None
    assert await any_store.lease_at(full.number_id, T0 + 1) == full
    assert (full.visitor_id, full.click_ids, full.consent) == ("v1", {"gclid": "G1"}, FULL)

    none = await any_store.take_lease(lease("none", **source), T0)
    assert none is not None and none.number_id is not None
    stored = await any_store.lease_at(none.number_id, T0 + 1)
    assert stored == none
    assert (none.visitor_id, none.click_token, none.click_ids) == (None, None, {})
    assert (none.utm_campaign, none.referrer_host, none.channel) == ("spring", "google.com", "paid")


async def test_a_lease_is_renewed_only_while_it_holds_its_number(any_store: Store) -> None:
    [only] = await pool_of(any_store, 1)
    held = await any_store.take_lease(lease("a", ttl=100), T0)
    assert held is not None
    renewed = await any_store.renew_lease("a", T0 + 90, T0 + 400)
    assert renewed == replace(held, expires=T0 + 400)
    assert await any_store.take_lease(lease("b", started=T0 + 200), T0 + 200) is None
    # A renewal never shortens a lease.
    assert await any_store.renew_lease("a", T0 + 100, T0 + 150) == renewed

    assert await any_store.renew_lease("a", T0 + 401, T0 + 900) is None  # it ran out
    after = await any_store.take_lease(lease("c", started=T0 + 500), T0 + 500)
    assert after is not None and after.number_id == only.id
    assert await any_store.renew_lease("a", T0 + 500, T0 + 900) is None  # someone else's now
    assert await any_store.renew_lease("nope", T0, T0 + 900) is None
    assert only.id is not None
    assert await any_store.lease_at(only.id, T0 + 450) is None  # nobody held it then


async def test_lease_at_finds_the_lease_holding_the_number_at_a_time(any_store: Store) -> None:
    numbers = await pool_of(any_store, 2)
    number_id = numbers[0].id
    assert number_id is not None
    one = await any_store.take_lease(lease("one", ttl=100, utm_source="a"), T0)
    await any_store.take_lease(lease("other", ttl=1000), T0)  # the other number
    assert await any_store.renew_lease("one", T0 + 50, T0 + 300) is not None
    two = await any_store.take_lease(lease("two", started=T0 + 400), T0 + 400)
    assert one is not None and two is not None and two.number_id == number_id

    def at(found: Lease | None) -> str | None:
        return found.id if found else None

    assert at(await any_store.lease_at(number_id, T0 - 1)) is None
    assert at(await any_store.lease_at(number_id, T0)) == "one"
    assert at(await any_store.lease_at(number_id, T0 + 250)) == "one"  # renewed
    assert at(await any_store.lease_at(number_id, T0 + 300)) == "one"
    assert at(await any_store.lease_at(number_id, T0 + 350)) is None
    assert at(await any_store.lease_at(number_id, T0 + 400)) == "two"
    assert at(await any_store.lease_at(number_id, T0 + 2200)) == "two"
    assert at(await any_store.lease_at(number_id, T0 + 2201)) is None
    assert at(await any_store.lease_at(number_id + 1000, T0)) is None
    found = await any_store.lease_at(number_id, T0 + 1)
    assert found == replace(one, expires=T0 + 300)


async def test_releasing_a_number_ends_its_lease(any_store: Store) -> None:
    [only] = await pool_of(any_store, 1)
    assert only.id is not None
    assert await any_store.take_lease(lease("a"), T0) is not None
    assert await any_store.release_number(only.id, T0 + 100)
    ended = await any_store.lease_at(only.id, T0 + 50)
    assert ended is not None and ended.expires == T0 + 100
    assert await any_store.lease_at(only.id, T0 + 101) is None
    assert await any_store.renew_lease("a", T0 + 200, T0 + 2000) is None
    assert await any_store.list_pools(T0 + 200) == []


async def test_two_stores_never_lease_the_same_number(any_store: Store) -> None:
    """200 sessions at once, through two stores (two nodes, or two processes on one SQLite
    file), on a pool of 100: each number goes to exactly one of them."""
    await pool_of(any_store, 100)
    other = create_store(any_store.url)
    await other.open()
    try:
        stores = (any_store, other)
        results = await asyncio.gather(
            *(stores[n % 2].take_lease(lease(f"l{n}"), T0) for n in range(200))
        )
    finally:
        await other.close()
    got = [r.number_id for r in results if r is not None]
    assert len(got) == 100 and len(set(got)) == 100
    assert results.count(None) == 100
    assert [leased for _, _, leased in await any_store.list_pools(T0)] == [100]


# --- calls --------------------------------------------------------------------------------


def event(status: str, ts: float, call_id: str = "CA1", **kw: Any) -> CallEvent:
    return CallEvent(
        provider="twilio", call_id=call_id, ts=ts, status=status, to="+4740000001",
        caller="+4791234567", **kw,
    )  # fmt: skip


async def _apply(store: Store, tracked: TrackingNumber, ev: CallEvent) -> tuple[Call | None, ...]:
    first = new_call(ev, tracked, lease=None, link=None, hash_key=KEY)
    return await store.apply_call(first, ev)


async def test_a_call_is_stored_once_and_webhooks_merge_into_it(any_store: Store) -> None:
    tracked = await any_store.insert_number(number("+4740000001", campaign="poster"))
    ringing = event("ringing", T0)
    after, before = await _apply(any_store, tracked, ringing)
    assert before is None and after is not None and after.id is not None
    assert (after.status, after.channel, after.campaign) == ("ringing", "static", "poster")
    assert after.caller_last2 == "67" and after.caller_hash and "+4791234567" not in repr(after)
    assert await any_store.get_call("twilio", "CA1") == after

    # The same webhook again changes nothing.
    again = await _apply(any_store, tracked, ringing)
    assert again == (after, after)
    assert await any_store.get_call("twilio", "CA1") == after

    answered, was = await _apply(any_store, tracked, event("answered", T0 + 5))
    assert was == after and answered is not None
    assert (answered.status, answered.answered, answered.id) == ("answered", T0 + 5, after.id)
    done, _ = await _apply(any_store, tracked, event("completed", T0 + 80, duration_s=75))
    assert done is not None and (done.status, done.ended, done.duration_s) == (
        "completed", T0 + 80, 75,
    )  # fmt: skip
    assert await any_store.get_call("twilio", "CA1") == done
    assert (await any_store.list_calls(CallQuery()))[1] == 1

    # A webhook of a call never stored, with nothing to store: nothing happens.
    assert await any_store.apply_call(None, event("completed", T0, "CA2")) == (None, None)
    assert await any_store.get_call("twilio", "CA2") is None
    # The same call id at another provider is another call.
    other = replace(event("ringing", T0), provider="telnyx")
    stored, _ = await any_store.apply_call(
        new_call(other, tracked, lease=None, link=None, hash_key=KEY), other
    )
    assert stored is not None and stored.id != after.id


async def test_webhooks_out_of_order_end_in_the_same_call(any_store: Store) -> None:
    tracked = await any_store.insert_number(number("+4740000001"))
    for ev in (
        event("completed", T0 + 80, duration_s=75),
        event("answered", T0 + 5),
        event("ringing", T0),
    ):
        await _apply(any_store, tracked, ev)
    call = await any_store.get_call("twilio", "CA1")
    assert call is not None
    assert (call.status, call.ended, call.duration_s) == ("completed", T0 + 80, 75)
    assert call.answered == T0 + 5  # talk time back from the end, as the provider reported
    assert call.started == T0 + 80  # first reported at the end: the store keeps what came first


async def test_concurrent_webhooks_of_one_call_lose_no_update(any_store: Store) -> None:
    tracked = await any_store.insert_number(number("+4740000001"))
    events = [
        *(event("ringing", T0) for _ in range(5)),
        *(event("answered", T0 + 5) for _ in range(5)),
        *(event("completed", T0 + 80) for _ in range(5)),  # the call's status, no duration
        *(event("completed", T0 + 80, duration_s=75) for _ in range(5)),  # the dialled leg's
    ]
    random.Random(9).shuffle(events)
    results = await asyncio.gather(*(_apply(any_store, tracked, ev) for ev in events))

    call = await any_store.get_call("twilio", "CA1")
    assert call is not None
    assert (call.status, call.ended, call.duration_s) == ("completed", T0 + 80, 75)
    assert call.answered == T0 + 5
    assert (await any_store.list_calls(CallQuery()))[1] == 1
    # Applied one after another: exactly one stored the call, and every other merged into the
    # state the one before it left (no two read the same row and overwrote each other).
    befores = [before for _, before in results if before is not None]
    afters = [after for after, _ in results]
    assert len(befores) == len(events) - 1
    assert Counter(befores) == Counter(afters) - Counter([call])


async def _calls(store: Store) -> list[Call]:
    """Six calls over two days, three numbers, two links, three channels."""
    link_a = await store.insert_link(Link(destination="https://a.example/", code="a"))
    link_b = await store.insert_link(Link(destination="https://b.example/", code="b"))
    n1 = await store.insert_number(number("+4740000001", link_id=link_a.id, campaign="fair"))
    n2 = await store.insert_number(number("+4740000002", link_id=link_b.id))
    n3 = await store.insert_number(number("+4740000003", pool="web"))
    assert n1.id and n2.id and n3.id

    def call(n: int, number_id: int, started: float, **kw: Any) -> Call:
        return Call(
            provider="twilio", call_id=f"CA{n}", number_id=number_id, started=started, **kw,
        )  # fmt: skip

    made = [
        call(1, n1.id, T0, status="completed", answered=T0 + 2, ended=T0 + 92, duration_s=90,
             channel="static", link_id=link_a.id, campaign="fair"),
        call(2, n1.id, T0 + 60, status="no-answer", ended=T0 + 90, channel="static",
             link_id=link_a.id, campaign="fair"),
        call(3, n2.id, T0 + 120, status="completed", answered=T0 + 121, ended=T0 + 141,
             duration_s=20, channel="static", link_id=link_b.id),
        call(4, n3.id, T0 + DAY, status="completed", answered=T0 + DAY, ended=T0 + DAY + 70,
             duration_s=70, channel="paid", utm_source="google", utm_medium="cpc",
             utm_campaign="spring", campaign="spring"),
        call(5, n3.id, T0 + DAY + 10, status="ringing", channel="direct"),
        call(6, n3.id, T0 + 3 * DAY, status="busy", channel="direct"),  # outside the range
    ]  # fmt: skip
    stored = []
    for c in made:
        after, _ = await store.apply_call(c, event(c.status, c.started, c.call_id))
        assert after is not None and after.id is not None
        stored.append(after)
    return stored


async def test_calls_are_listed_newest_first_and_filtered(any_store: Store) -> None:
    calls = await _calls(any_store)
    ids = [c.id for c in calls]
    assert calls[0].id is not None
    await any_store.set_call_conversion(calls[0].id, 77)
    first = await any_store.get_call("twilio", "CA1")
    assert first == replace(calls[0], conversion_id=77)

    async def listed(**kw: Any) -> tuple[list[int | None], int]:
        found, total = await any_store.list_calls(CallQuery(**kw))
        return [c.id for c in found], total

    assert await listed() == (ids[::-1], 6)
    assert await listed(limit=2, offset=1) == ([ids[4], ids[3]], 6)
    assert await listed(number_id=calls[0].number_id) == ([ids[1], ids[0]], 2)
    assert await listed(status="completed") == ([ids[3], ids[2], ids[0]], 3)
    assert await listed(status="qualified") == ([ids[0]], 1)
    assert await listed(campaign="fair") == ([ids[1], ids[0]], 2)
    assert await listed(since=T0 + 60, until=T0 + DAY) == ([ids[2], ids[1]], 2)
    assert (await any_store.list_calls(CallQuery(since=T0)))[0][-1] == first


async def test_call_totals_by_each_group(any_store: Store) -> None:
    calls = await _calls(any_store)
    assert calls[3].id is not None
    await any_store.set_call_conversion(calls[3].id, 5)
    start, end = T0, T0 + 2 * DAY
    link_a, link_b = str(calls[0].link_id), str(calls[2].link_id)

    async def totals(group_by: str, **kw: Any) -> list[CallTotal]:
        return await any_store.call_totals(group_by, start, end, **kw)

    assert await totals("campaign") == [
        CallTotal(("fair",), 2, 1, 0, 90), CallTotal((None,), 2, 1, 0, 20),
        CallTotal(("spring",), 1, 1, 1, 70),
    ]  # fmt: skip
    assert await totals("channel") == [
        CallTotal(("static",), 3, 2, 0, 110), CallTotal(("direct",), 1, 0, 0, 0),
        CallTotal(("paid",), 1, 1, 1, 70),
    ]  # fmt: skip
    assert await totals("link_id") == [
        CallTotal((link_a,), 2, 1, 0, 90), CallTotal((None,), 2, 1, 1, 70),
        CallTotal((link_b,), 1, 1, 0, 20),
    ]  # fmt: skip
    assert [t.value for t in await totals("number_id")] == [
        str(calls[0].number_id), str(calls[3].number_id), str(calls[2].number_id),
    ]  # fmt: skip
    assert await totals("day") == [
        CallTotal(("2025-11-25",), 3, 2, 0, 110), CallTotal(("2025-11-26",), 2, 1, 1, 70),
    ]  # fmt: skip
    assert await totals("utm_source") == [CallTotal((None,), 4, 2, 0, 110),
                                          CallTotal(("google",), 1, 1, 1, 70)]  # fmt: skip
    assert await totals("link_id", link_ids=[calls[2].link_id]) == [
        CallTotal((link_b,), 1, 1, 0, 20)
    ]
    assert await totals("day", link_ids=[]) == []
    # Calls from `start` up to but not including `end`.
    assert await any_store.call_totals("day", T0 + 60, T0 + DAY) == [
        CallTotal(("2025-11-25",), 2, 1, 0, 20)
    ]
    with pytest.raises(InvalidField):
        await totals("caller_hash")


async def test_call_totals_by_several_columns_at_once(any_store: Store) -> None:
    """A table by source and medium (or any columns together) counts its calls in one query,
    a missing tag a value of its own, whatever the engine."""
    link = await any_store.insert_link(Link(destination="https://a.example/", code="a"))
    tracked = await any_store.insert_number(number("+4740000001", pool="web"))
    assert link.id is not None and tracked.id is not None
    number_id = tracked.id  # an int: asserted above

    async def made(n: int, started: float, talk: int | None, **kw: Any) -> Call:
        answered = None if talk is None else started + 1
        c = Call(provider="twilio", call_id=f"CA{n}", number_id=number_id, started=started,
                 status="completed" if talk else "no-answer", answered=answered,
                 duration_s=talk, **kw)  # fmt: skip
        after, _ = await any_store.apply_call(c, event(c.status, started, c.call_id))
        assert after is not None and after.id is not None
        return after

    paid = await made(1, T0, 60, utm_source="google", utm_medium="cpc", link_id=link.id)
    await made(2, T0 + DAY, None, utm_source="google", utm_medium="cpc", link_id=link.id)
    await made(3, T0 + 60, 30, utm_source="google", utm_medium="organic")
    await made(4, T0 + 120, 10, utm_source="print")  # no medium
    await made(5, T0 + DAY + 60, None)  # no tags at all
    await made(6, T0 + 3 * DAY, 90, utm_source="google", utm_medium="cpc")  # outside the range
    assert paid.id is not None
    await any_store.set_call_conversion(paid.id, 9)
    start, end = T0, T0 + 2 * DAY

    channels = await any_store.call_totals(("utm_source", "utm_medium"), start, end)
    assert channels == [
        CallTotal(("google", "cpc"), 2, 1, 1, 60), CallTotal(("google", "organic"), 1, 1, 0, 30),
        CallTotal(("print", None), 1, 1, 0, 10), CallTotal((None, None), 1, 0, 0, 0),
    ]  # fmt: skip
    swapped = await any_store.call_totals(("utm_medium", "utm_source"), start, end)
    assert [t.key for t in swapped] == [
        ("cpc", "google"), ("organic", "google"), (None, "print"), (None, None),
    ]  # fmt: skip
    by_day = await any_store.call_totals(("day", "utm_source", "link_id"), start, end)
    assert [(t.key, t.calls) for t in by_day] == [
        (("2025-11-25", "google", str(link.id)), 1), (("2025-11-25", "google", None), 1),
        (("2025-11-25", "print", None), 1), (("2025-11-26", "google", str(link.id)), 1),
        (("2025-11-26", None, None), 1),
    ]  # fmt: skip
    of_link = await any_store.call_totals(("utm_source", "utm_medium"), start, end, [link.id])
    assert of_link == [CallTotal(("google", "cpc"), 2, 1, 1, 60)]
    one = await any_store.call_totals(("utm_source",), start, end)
    assert one == await any_store.call_totals("utm_source", start, end)  # a name or a tuple
    assert [t.value for t in one] == ["google", "print", None]
    for wrong in ((), ("utm_source", "utm_source"), ("utm_source", "caller_hash")):
        with pytest.raises(InvalidField):
            await any_store.call_totals(wrong, start, end)
