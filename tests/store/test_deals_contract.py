"""Store contract for what a CRM deal is matched to: an order's conversion, a hashed e-mail or
phone, a click id on a touch; and a deal's action source round trip (every engine)."""

from __future__ import annotations

from datetime import UTC, datetime

from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.events import Touch
from firstmark.domain.goals import Goal
from firstmark.domain.userdata import sha256
from firstmark.store.protocol import Store

TS = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp()
ADS = Consent(analytics=True, ad_user_data=True)
EMAIL = sha256("buyer@example.com")


async def goal(store: Store, name: str) -> int:
    saved = await store.insert_goal(Goal(name=name))
    assert saved.id is not None
    return saved.id


async def test_an_order_finds_its_latest_conversion_before_the_deal(any_store: Store) -> None:
    purchase = await goal(any_store, "purchase")
    won = await goal(any_store, "deal_won")
    await any_store.insert_conversions(
        [
            Conversion("web-1", purchase, TS - 100, ADS, "web", order_id="SO-1", link_id=7),
            Conversion("crm.won.1", won, TS - 50, ADS, "server", order_id="SO-1",
                       action_source="system_generated"),
            Conversion("web-2", purchase, TS + 100, ADS, "web", order_id="SO-2"),
        ]
    )  # fmt: skip
    found = await any_store.conversion_by_order("SO-1", TS)
    assert found is not None and found.event_id == "web-1" and found.link_id == 7
    assert found.action_source is None
    # A deal's own conversion is never what a deal matches; nor a later one.
    assert await any_store.conversion_by_order("SO-2", TS) is None
    [(deal, _)] = await any_store.insert_conversions(
        [Conversion("crm.won.2", won, TS, ADS, "server", action_source="physical_store")]
    )
    assert deal.action_source == "physical_store"


async def test_a_hashed_email_or_phone_finds_the_conversion_holding_it(
    any_store: Store,
) -> None:
    signup = await goal(any_store, "signup")
    phone = sha256("4791234567")
    await any_store.insert_conversions(
        [
            Conversion("a", signup, TS - 300, ADS, "server", user_data={"em": EMAIL}),
            Conversion("b", signup, TS - 200, ADS, "call", user_data={"ph": phone}),
            # the hash under another key is no match
            Conversion("c", signup, TS - 100, ADS, "server", user_data={"external_id": EMAIL}),
        ]
    )
    by_email = await any_store.conversion_by_user_hash("em", EMAIL, TS)
    assert by_email is not None and by_email.event_id == "a"
    by_phone = await any_store.conversion_by_user_hash("ph", phone, TS)
    assert by_phone is not None and by_phone.source == "call"
    assert await any_store.conversion_by_user_hash("ph", EMAIL, TS) is None
    assert await any_store.conversion_by_user_hash("em", EMAIL, TS - 400) is None


async def test_a_click_id_finds_its_touches_exactly(any_store: Store) -> None:
    await any_store.write_events(
        [],
        [
            Touch(TS - 60, visitor_id="v-12345678", click_ids={"gclid": "Cj0_x%y"}),
            Touch(TS - 50, visitor_id="v-87654321", click_ids={"gclid": "CJ0_X%Y"}),
            Touch(TS - 40, visitor_id="v-00000000", click_ids={"fbclid": "Cj0_x%y"}),
            Touch(TS - 30, visitor_id="v-11111111", click_ids={"gclid": "Cj0aXbY"}),
        ],
        [],
    )
    found = await any_store.touches_by_click_id("gclid", "Cj0_x%y", TS - 3600, TS)
    assert [t.visitor_id for t in found] == ["v-12345678"]
    assert await any_store.touches_by_click_id("gclid", "Cj0_x%y", TS - 10, TS) == []
