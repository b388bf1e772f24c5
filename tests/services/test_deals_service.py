"""Deals through the service: exempt mode keeps the channel and value of a matched deal and
nothing that links its buyer; a stored import is one audit entry of counts, on both engines."""

from __future__ import annotations

import time

import pytest

from firstmark.domain import audit, deals
from firstmark.domain.audit import CLI_ACTOR
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.goals import Goal
from firstmark.domain.userdata import sha256
from firstmark.services import deals as deals_service
from firstmark.store import Store

ADS = Consent(analytics=True, ad_user_data=True)


@pytest.mark.parametrize("exempt", [False, True])
async def test_exempt_mode_keeps_no_identifier_of_a_matched_deal(
    store: Store, exempt: bool
) -> None:
    signup = await store.insert_goal(Goal(name="signup"))
    assert signup.id is not None
    now = time.time()
    await store.insert_conversions(
        [Conversion("s-1", signup.id, now - 600, ADS, "server", visitor_id="buyer-1234",
                    utm_source="newsletter", user_data={"em": sha256("b@example.com")})]
    )  # fmt: skip
    found = deals.parse_json(
        {"deals": [{"deal_id": "E-1", "stage": "won", "ts": int(now), "value": 5,
                    "currency": "EUR", "email": "b@example.com"}]}
    )  # fmt: skip
    report = await deals_service.import_deals(
        store, ClickSigner("s"), found, actor=CLI_ACTOR, exempt=exempt
    )
    assert report["matched"] == 1 and report["imported"] == 1
    [deal, _] = (await store.list_conversions(None, 10, 0))[0]
    assert deal.event_id == "crm.won.E-1" and deal.utm_source == "newsletter"
    assert deal.value == 5 and deal.action_source == "system_generated"
    if exempt:
        assert (deal.visitor_id, deal.user_data, deal.consent) == (None, {}, Consent())
    else:
        assert deal.visitor_id == "buyer-1234" and deal.user_data == {"em": sha256("b@example.com")}


async def test_a_stored_import_is_one_audit_entry_of_counts_and_a_dry_run_none(
    any_store: Store,
) -> None:
    found = deals.parse_json(
        {"deals": [{"deal_id": "AU-1", "stage": "won", "ts": int(time.time()), "value": 7,
                    "currency": "EUR", "email": "c@example.com"},
                   {"deal_id": "AU-2", "stage": "lost", "ts": int(time.time())}]}
    )  # fmt: skip
    signer = ClickSigner("s")
    await deals_service.import_deals(any_store, signer, found, actor="key:abc", dry_run=True)
    assert (await any_store.list_audit(audit.Query()))[1] == 0
    await deals_service.import_deals(any_store, signer, found, actor="key:abc", preset="generic")
    [entry], total = await any_store.list_audit(audit.Query(object_kind="deal"))
    assert total == 1
    assert (entry.actor, entry.action, entry.object_id) == ("key:abc", "import", None)
    assert entry.detail == {"preset": "generic", "rows": 2, "imported": 1, "matched": 0,
                            "unmatched": 2, "action_source": "system_generated"}  # fmt: skip
    assert "AU-1" not in entry.detail_json() and "c@example.com" not in entry.detail_json()
