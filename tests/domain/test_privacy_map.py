"""The privacy maps: identifiers hash the way every platform does, consent shares and
modelled totals add up, and docs/privacy.md shows the consent table the code uses. (That the
link maps name real columns and cover every identifying one: tests/store.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from firstmark.domain import privacy
from firstmark.domain.consent import from_page
from firstmark.domain.destinations import PLATFORMS
from firstmark.domain.phones import caller_hash
from firstmark.domain.privacy import StateCount
from firstmark.errors import InvalidField
from firstmark.forward.hashing import hash_value

KEY = b"k"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"


@pytest.mark.parametrize(
    "email", ["John.Doe+news@Gmail.com", " someone@example.org ", "a.b@googlemail.com"]
)
def test_an_email_is_looked_for_under_every_platforms_hash(email: str) -> None:
    seeds = privacy.subject("email", email, KEY).seeds
    for platform in PLATFORMS:
        assert hash_value(platform, "email", email) in seeds["user_hash"], platform
    assert email.strip() not in str(seeds)


def test_a_phone_is_looked_for_under_every_platforms_hash_and_the_callers_key() -> None:
    seeds = privacy.subject("phone", "+47 912 34 567", KEY).seeds
    for platform in PLATFORMS:
        assert hash_value(platform, "phone", "+47 912 34 567") in seeds["user_hash"], platform
    assert seeds["caller_hash"] == (caller_hash(KEY, "+4791234567"),)
    assert "91234567" not in str(seeds)


def test_a_hash_given_as_such_is_used_as_it_is() -> None:
    digest = "a" * 64
    assert privacy.subject("email", digest.upper(), KEY).seeds == {"user_hash": (digest,)}


@pytest.mark.parametrize(
    ("kind", "value", "field"),
    [
        ("name", "x", "kind"),
        ("email", "nobody", "value"),
        ("phone", "0047", "value"),
        ("visitor_id", "  ", "value"),
        ("order_id", None, "value"),
        ("order_id", "x" * 257, "value"),
    ],
)
def test_bad_identifiers_are_refused(kind: str, value: object, field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        privacy.subject(kind, value, KEY)
    assert caught.value.field == field


def test_shares_and_modelled_totals() -> None:
    out = privacy.consent_share(
        [StateCount("none", 60, 1), StateCount("full", 30, 6), StateCount("analytics", 10, 2),
         StateCount("gpc", 0, 1)]
    )  # fmt: skip
    rows = {r["state"]: r for r in out["states"]}  # type: ignore[attr-defined]
    assert rows["none"]["visit_share"] == 0.6 and rows["full"]["conversion_share"] == 0.6
    assert rows["ads"]["visits"] == 0 and rows["ads"]["visit_share"] == 0.0
    assert out["observed"] == {"visits": 100, "conversions": 10}
    modelled = out["modelled"]
    assert modelled["analytics_share"] == 0.4  # type: ignore[index]
    assert modelled["attributable_conversions"] == 8  # type: ignore[index]
    assert modelled["conversions"] == 20.0  # type: ignore[index]
    assert "modelled" in modelled["label"]  # type: ignore[index]


def test_no_consented_visit_gives_no_estimate() -> None:
    out = privacy.consent_share([StateCount("none", 5, 0)])
    assert out["modelled"]["conversions"] is None  # type: ignore[index]
    assert privacy.consent_share([])["states"][0]["visit_share"] is None  # type: ignore[index]


@pytest.mark.parametrize(
    ("consent", "state"),
    [
        ({"analytics_storage": "granted"}, "analytics"),
        ({"ad_user_data": "granted"}, "ads"),
        ({"analytics_storage": "granted", "ad_storage": "granted"}, "full"),
        ({"analytics_storage": "granted", "gpc": True}, "gpc"),
        ({}, "none"),
    ],
)
def test_a_conversion_falls_under_its_consent_state(consent: dict[str, object], state: str) -> None:
    assert privacy.conversion_state(consent) == state
    assert state in privacy.STATE_KEYS


def test_the_docs_show_the_consent_table_the_code_uses() -> None:
    text = DOCS.read_text()
    start = text.index("<!-- consent-table:start -->") + len("<!-- consent-table:start -->")
    end = text.index("<!-- consent-table:end -->")
    assert text[start:end].strip() == privacy.consent_table()


TCF_1_9 = "CAAAAAAAAAAAAAAAAAAAAAAAAICAAAAAAAAAAA"  # purposes 1 and 9


@pytest.mark.parametrize(
    ("page", "tcf", "gpc", "recorded"),
    [
        (None, TCF_1_9, False, "analytics:tcf"),
        ({"ad_storage": "granted"}, TCF_1_9, False, "full:tcf"),
        ({"analytics_storage": "granted"}, None, False, "analytics"),
        (None, TCF_1_9, True, "gpc"),
    ],
)
def test_an_event_records_whether_a_tcf_string_decided(
    page: dict[str, str] | None, tcf: str | None, gpc: bool, recorded: str
) -> None:
    decided = from_page(page, tcf=tcf, gpc=gpc)
    assert decided.recorded == recorded
    state, by_tcf = privacy.recorded_state(recorded)
    assert state == decided.label and by_tcf == decided.tcf
