"""The conversions the customers report reads, on both engines: identities, value, and the
first touch the first_touch model stored; and the customer hash gone with an erased person."""

from __future__ import annotations

import time

from firstmark.domain import privacy
from firstmark.domain.userdata import sha256
from firstmark.services import credits
from firstmark.store import Store
from insighttools import DAY, order_goal, sell, touch

KEY = b"k" * 32


async def test_sales_carry_identities_and_the_first_touch(any_store: Store) -> None:
    goal = await order_goal(any_store)
    now = time.time()
    await touch(any_store, "visitor-0001", now - 3 * DAY, "newsletter", "email")
    await touch(any_store, "visitor-0001", now - 2 * DAY, "google", "cpc")
    await sell(any_store, goal, "e1", now - DAY, 99.5, visitor="visitor-0001",
               customer=sha256("acct-1"))  # fmt: skip
    await sell(any_store, goal, "e2", now - 10, 10, visitor="visitor-0002")
    await credits.credit_new(any_store)
    first, second = await any_store.customer_sales(now)
    assert (first.value, first.currency, first.visitor_id) == (99.5, "EUR", "visitor-0001")
    assert first.customer_hash == sha256("acct-1") and first.email_hash is None
    assert (first.source, first.medium) == ("newsletter", "email")  # the first touch
    assert (second.source, second.medium) == ("(direct)", "(none)")
    assert await any_store.customer_sales(now - 60) == [first]


async def test_erasing_a_person_clears_their_customer_hash(any_store: Store) -> None:
    goal = await order_goal(any_store)
    now = time.time()
    await sell(any_store, goal, "e1", now - DAY, 5, visitor="visitor-0001",
               customer=sha256("acct-1"))  # fmt: skip
    await any_store.privacy_erase(privacy.subject("visitor_id", "visitor-0001", KEY))
    (sale,) = await any_store.customer_sales(now)
    assert sale.customer_hash is None and sale.visitor_id is None
