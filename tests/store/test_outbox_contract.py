"""Store contract for destinations and the outbox: rows in the conversion's transaction (the
ones the caller gives, which the domain's gate picks by consent), leased claims that survive a
dead worker, the delivery log, replay."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.destinations import Attempt, Destination, OutboxTarget, outbox_targets
from firstmark.domain.goals import Goal
from firstmark.errors import Conflict, NotFound
from firstmark.store.protocol import Store

ADS = Consent(analytics=True, ad_user_data=True, ad_personalization=True)


def destination(
    name: str = "meta", goals: dict[str, str] | None = None, **kw: object
) -> Destination:
    return Destination(
        platform="meta",
        name=name,
        credentials_sealed="sealed-opaque",
        credential_fields=("access_token", "pixel_id"),
        goals=goals if goals is not None else {"purchase": "Purchase"},
        **kw,  # type: ignore[arg-type]
    )


async def conversion(
    store: Store, event_id: str, consent: Consent = ADS, goal: str = "purchase", **kw: object
) -> Conversion:
    goals = {g.name: g for g in await store.list_goals()}
    if goal not in goals:
        goals[goal] = await store.insert_goal(Goal(name=goal))
    found = goals[goal]
    assert found.id is not None
    conv = Conversion(
        event_id=event_id, goal_id=found.id, goal=goal, ts=time.time(), consent=consent,
        source="server", **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    [(saved, _)] = await any_insert(store, conv)
    return saved


async def any_insert(store: Store, conv: Conversion) -> list[tuple[Conversion, bool]]:
    """As the callers insert: with the outbox rows the domain's consent gate gives."""
    targets = outbox_targets(conv, await store.list_destinations())
    return await store.insert_conversions([conv], [targets])


async def test_destinations_are_stored_listed_changed_and_removed(any_store: Store) -> None:
    saved = await any_store.insert_destination(destination(options={"limited_data_use": True}))
    assert saved.id is not None and saved.credential_fields == ("access_token", "pixel_id")
    assert saved.options == {"limited_data_use": True} and saved.enabled
    with pytest.raises(Conflict):
        await any_store.insert_destination(destination())
    changed = await any_store.update_destination(replace(saved, enabled=False, name="meta-eu"))
    assert not changed.enabled and changed.name == "meta-eu"
    assert [d.name for d in await any_store.list_destinations()] == ["meta-eu"]
    with pytest.raises(NotFound):
        await any_store.update_destination(replace(saved, id=9999))
    assert await any_store.delete_destination(saved.id)
    assert await any_store.get_destination(saved.id) is None
    assert not await any_store.delete_destination(saved.id)


@pytest.mark.parametrize(
    ("consent", "goal", "enabled", "expected"),
    [
        (ADS, "purchase", True, 1),
        (Consent(analytics=True), "purchase", True, 0),  # no ads consent
        (Consent(gpc=True, ad_user_data=True), "purchase", True, 0),  # GPC wins
        (ADS, "signup", True, 0),  # goal not mapped
        (ADS, "purchase", False, 0),  # destination disabled
    ],
)
async def test_outbox_rows_follow_consent_mapping_and_enabled(
    any_store: Store, consent: Consent, goal: str, enabled: bool, expected: int
) -> None:
    await any_store.insert_destination(destination(enabled=enabled))
    await conversion(any_store, "e-1", consent, goal)
    assert sum((await any_store.outbox_counts()).values()) == expected


async def test_the_store_writes_exactly_the_rows_it_is_given(any_store: Store) -> None:
    one = await any_store.insert_destination(destination("one"))
    two = await any_store.insert_destination(destination("two", enabled=False))
    goal = await any_store.insert_goal(Goal(name="purchase"))
    assert one.id is not None and two.id is not None and goal.id is not None
    convs = [
        Conversion(event_id=f"e-{n}", goal_id=goal.id, goal="purchase", ts=time.time(),
                   consent=Consent(), source="server", click_ids={"gclid": f"G{n}"})
        for n in range(3)
    ]  # fmt: skip
    given = [[OutboxTarget(two.id, "Custom")], [], [OutboxTarget(one.id, "Lead")]]
    results = await any_store.insert_conversions(convs, given)
    assert [dup for _, dup in results] == [False, False, False]
    assert (await any_store.outbox_counts(one.id))["pending"] == 1
    assert (await any_store.outbox_counts(two.id))["pending"] == 1  # no gate in the store
    [item] = await any_store.claim_outbox("w", 10, 30)  # the disabled one's row waits
    assert (item.conversion.event_id, item.event_name) == ("e-2", "Lead")
    assert item.click_ids == {"gclid": "G2"}
    # A repeat stores nothing, whatever rows come with it.
    again = await any_store.insert_conversions(convs[:1], [[OutboxTarget(one.id, "Lead")]])
    assert again[0][1] and (await any_store.outbox_counts(one.id))["sending"] == 1
    assert sum((await any_store.outbox_counts(one.id)).values()) == 1
    with pytest.raises(ValueError):
        await any_store.insert_conversions(convs, [[]])  # rows for some conversions only


async def test_outbox_rows_share_the_conversions_transaction(any_store: Store) -> None:
    goal = await any_store.insert_goal(Goal(name="purchase"))
    assert goal.id is not None
    conv = Conversion(event_id="e-1", goal_id=goal.id, goal="purchase", ts=time.time(),
                      consent=ADS, source="server")  # fmt: skip
    with pytest.raises(Exception, match=r"(?i)foreign key"):  # no destination 999
        await any_store.insert_conversions([conv], [[OutboxTarget(999, "Purchase")]])
    assert (await any_store.list_conversions(None, 10, 0))[1] == 0
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        await any_store.write_events([], [], [conv], [[OutboxTarget(999, "Purchase")]])
    assert (await any_store.list_conversions(None, 10, 0))[1] == 0


async def test_a_repeated_conversion_gets_no_second_row(any_store: Store) -> None:
    await any_store.insert_destination(destination())
    await any_store.insert_destination(destination("meta-2"))
    first = await conversion(any_store, "same")
    await conversion(any_store, "same")
    counts = await any_store.outbox_counts()
    assert counts["pending"] == 2  # one per destination, not per request
    items = await any_store.claim_outbox("w1", 10, 60)
    assert {i.conversion.id for i in items} == {first.id}
    assert {i.event_name for i in items} == {"Purchase"}


async def test_claims_lease_rows_and_a_lapsed_lease_makes_them_due_again(any_store: Store) -> None:
    dest = await any_store.insert_destination(destination())
    await conversion(any_store, "e-1", click_ids={"fbclid": "AbC"}, sealed_client="sealed")
    now = time.time()
    [item] = await any_store.claim_outbox("w1", 10, 30, now=now)
    assert item.destination_id == dest.id and item.attempts == 1
    assert item.click_ids == {"fbclid": "AbC"} and item.sealed_client == "sealed"
    assert item.conversion.event_id == "e-1" and item.conversion.goal == "purchase"
    assert (await any_store.outbox_counts())["sending"] == 1
    assert await any_store.claim_outbox("w2", 10, 30, now=now + 29) == []
    [again] = await any_store.claim_outbox("w2", 10, 30, now=now + 31)  # w1 died
    assert again.id == item.id and again.attempts == 2
    # The first worker wakes up: the row is not its own any more.
    assert await any_store.finish_outbox("w1", [Attempt(item.id, "sent", http_status=200)]) == 0
    assert await any_store.finish_outbox("w2", [Attempt(item.id, "sent", http_status=200)]) == 1
    assert (await any_store.outbox_counts())["sent"] == 1
    assert await any_store.claim_outbox("w3", 10, 30, now=now + 3600) == []


async def test_finishing_records_deliveries_and_erases_client_data_when_done(
    any_store: Store,
) -> None:
    dest = await any_store.insert_destination(destination())
    assert dest.id is not None
    for n in range(3):
        await conversion(any_store, f"e-{n}", sealed_client=f"sealed-{n}")
    items = await any_store.claim_outbox("w", 10, 30)
    later = time.time() + 600
    attempts = [
        Attempt(items[0].id, "sent", None, 200, None, 51.0),
        Attempt(items[1].id, "retry", later, 503, "HTTP 503: busy", 12.0),
        Attempt(items[2].id, "dead", None, 400, "HTTP 400: bad pixel", 9.0),
    ]
    assert await any_store.finish_outbox("w", attempts) == 3
    counts = await any_store.outbox_counts(dest.id)
    assert (counts["sent"], counts["retry"], counts["dead"]) == (1, 1, 1)
    log = await any_store.list_deliveries(dest.id)
    assert [(d.event_id, d.status, d.http_status) for d in log] == [
        ("e-2", "dead", 400), ("e-1", "retry", 503), ("e-0", "sent", 200),
    ]  # fmt: skip
    assert log[0].error == "HTTP 400: bad pixel" and log[2].latency_ms == 51.0
    assert [d.id for d in await any_store.list_deliveries(dest.id, 1, log[0].id)] == [log[1].id]
    # Only the row still to be retried keeps its sealed client data.
    [retry] = await any_store.claim_outbox("w", 10, 30, now=later + 1)
    assert retry.sealed_client == "sealed-1"
    assert await any_store.replay_outbox(dest.id) == 1
    [replayed] = await any_store.claim_outbox("w", 10, 30)
    assert replayed.id == items[2].id and replayed.attempts == 1
    assert replayed.sealed_client is None


async def test_replay_takes_only_dead_rows_of_the_named_destination(any_store: Store) -> None:
    one = await any_store.insert_destination(destination("one"))
    two = await any_store.insert_destination(destination("two"))
    await conversion(any_store, "e-1")
    items = await any_store.claim_outbox("w", 10, 30)
    await any_store.finish_outbox("w", [Attempt(i.id, "dead", error="x") for i in items])
    assert await any_store.replay_outbox(one.id) == 1
    assert (await any_store.outbox_counts(two.id))["dead"] == 1
    assert await any_store.replay_outbox(outbox_ids=[]) == 0
    assert await any_store.replay_outbox() == 1


async def test_rows_of_a_disabled_destination_wait(any_store: Store) -> None:
    dest = await any_store.insert_destination(destination())
    await conversion(any_store, "e-1")
    await any_store.update_destination(replace(dest, enabled=False))
    assert await any_store.claim_outbox("w", 10, 30) == []
    await any_store.update_destination(replace(dest, enabled=True))
    assert len(await any_store.claim_outbox("w", 10, 30)) == 1


async def test_removing_a_destination_removes_its_rows(any_store: Store) -> None:
    dest = await any_store.insert_destination(destination())
    assert dest.id is not None
    await conversion(any_store, "e-1")
    [item] = await any_store.claim_outbox("w", 10, 30)
    await any_store.finish_outbox("w", [Attempt(item.id, "sent", http_status=200)])
    assert await any_store.delete_destination(dest.id)
    assert sum((await any_store.outbox_counts()).values()) == 0


async def test_web_conversions_written_with_events_are_queued_too(any_store: Store) -> None:
    await any_store.insert_destination(destination())
    goal = await any_store.insert_goal(Goal(name="purchase"))
    assert goal.id is not None
    web = [
        Conversion(event_id=f"web-{n}", goal_id=goal.id, goal="purchase", ts=time.time(),
                   consent=consent, source="web", click_ids={"gclid": "G"})
        for n, consent in enumerate([ADS, Consent(analytics=True)])
    ]  # fmt: skip
    destinations = await any_store.list_destinations()
    outbox = [outbox_targets(c, destinations) for c in web]
    assert await any_store.write_events([], [], web, outbox) == 2
    [item] = await any_store.claim_outbox("w", 10, 30)
    assert item.conversion.event_id == "web-0" and item.click_ids == {"gclid": "G"}


async def test_sent_rows_keep_the_status_their_own_request_answered(any_store: Store) -> None:
    await any_store.insert_destination(destination())
    for n in range(2):
        await conversion(any_store, f"e-{n}")
    first, second = await any_store.claim_outbox("w", 10, 30)
    attempts = [
        Attempt(first.id, "sent", http_status=200),
        Attempt(second.id, "sent", http_status=202),
    ]
    assert await any_store.finish_outbox("w", attempts) == 2
    statuses = {
        d.outbox_id: d.http_status for d in await any_store.list_deliveries(first.destination_id)
    }
    assert statuses == {first.id: 200, second.id: 202}
