"""The `/n` query read into a lease: strict parameters, and only what consent allows kept."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from firstmark.domain import dni
from firstmark.domain.clicks import ClickSigner
from firstmark.domain.numbers import Pool
from firstmark.errors import Forbidden, InvalidField

SIGNER = ClickSigner("test-secret")
KEY = "fms_abcdefghijklmnop"
# Query parameters, unpacked into read() (typed Any there: read's sec_gpc is a bool, not one).
ALL: dict[str, Any] = {
    "analytics_storage": "granted",
    "ad_storage": "granted",
    "ad_user_data": "granted",
}
LANDING: dict[str, Any] = {
    "utm_source": "News Letter",
    "utm_medium": "cpc",
    "utm_campaign": "Winter",
    "gclid": "G-123",
    "fbclid": "F-456",
    "ref": "www.news.example",
    "vid": "visitor-123456",
}


def read(*, sec_gpc: bool = False, page_host: str = "shop.example", **params: str) -> Any:
    return dni.parse(
        list({"site": KEY, **params}.items()), signer=SIGNER, gpc=sec_gpc, page_host=page_host
    )


def test_without_consent_the_lease_keeps_the_channel_but_nothing_identifying() -> None:
    token = SIGNER.token(42, 1.8e9)
    got = read(**LANDING, fm_click=token)
    lease = dni.draft(got, Pool("web", lease_s=1800), site_id=3, now=1000.0)
    assert (lease.pool, lease.site_id, lease.started, lease.expires) == ("web", 3, 1000.0, 2800.0)
    assert (lease.utm_source, lease.utm_medium, lease.utm_campaign) == (
        "news-letter",
        "cpc",
        "winter",
    )
    assert lease.link_id == 42 and lease.referrer_host == "news.example"
    assert lease.visitor_id is None and lease.click_token is None and lease.click_ids == {}
    assert lease.consent.label == "none" and lease.channel == "paid"


def test_analytics_consent_keeps_the_visitor_and_click_token_but_not_click_ids() -> None:
    token = SIGNER.token(42, 1.8e9)
    got = read(**LANDING, fm_click=token, analytics_storage="granted")
    assert (got.visitor_id, got.click_token, got.link_id) == ("visitor-123456", token, 42)
    assert got.click_ids == {}


def test_ads_consent_keeps_the_click_ids() -> None:
    got = read(**LANDING, **ALL)
    assert got.click_ids == {"gclid": "G-123", "fbclid": "F-456"}
    assert got.visitor_id == "visitor-123456" and got.consent.forwarding


def test_ads_consent_alone_keeps_click_ids_but_no_visitor() -> None:
    got = read(**LANDING, ad_storage="granted")
    assert got.click_ids == {"gclid": "G-123", "fbclid": "F-456"} and got.visitor_id is None


@pytest.mark.parametrize(("header", "param"), [(True, {}), (False, {"gpc": "1"})])
def test_gpc_keeps_nothing_identifying_and_no_click_ids(
    header: bool, param: dict[str, str]
) -> None:
    token = SIGNER.token(42, 1.8e9)
    got = read(**LANDING, **ALL, **param, fm_click=token, sec_gpc=header)
    assert got.consent.gpc and not got.consent.forwarding
    assert got.visitor_id is None and got.click_token is None and got.click_ids == {}
    assert got.utm["utm_source"] == "news-letter" and got.link_id == 42


def test_a_forged_click_token_names_no_link() -> None:
    forged = SIGNER.token(42, 1.8e9)[:-2] + "00"
    got = read(fm_click=forged, analytics_storage="granted")
    assert got.link_id is None and got.click_token is None


def test_the_referrer_is_a_host_and_the_site_itself_is_no_referrer() -> None:
    assert read(ref="WWW.Search.Example").referrer_host == "search.example"
    assert read(ref="www.shop.example").referrer_host is None
    assert read(ref="").referrer_host is None


def test_a_renewal_names_its_lease_and_pool() -> None:
    got = read(lease="AbCdEfGhIjKlMnOpQrStUv", pool="sales")
    assert (got.renew, got.pool) == ("AbCdEfGhIjKlMnOpQrStUv", "sales")
    assert read(pool="", lease="").pool is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"site": ""}, "site"),
        ({"site": "shop"}, "site"),
        ({"pool": "Not A Pool"}, "pool"),
        ({"lease": "short"}, "lease"),
        ({"lease": "a" * 16 + "/"}, "lease"),
        ({"analytics_storage": "yes"}, "analytics_storage"),
        ({"tcf": "not-a-tcf-string"}, "tcf"),
        ({"gpc": "maybe"}, "gpc"),
        ({"vid": "x"}, "vid"),
        ({"ref": "https://search.example/?q=me"}, "ref"),
        ({"utm_source": "x" * 513}, "utm_source"),
        ({"email": "a@b.c"}, "email"),
    ],
)
def test_bad_input_names_the_parameter(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        read(**params)
    assert caught.value.field == field


def test_a_parameter_given_twice_is_refused() -> None:
    with pytest.raises(InvalidField) as caught:
        dni.parse([("site", KEY), ("vid", "visitor-1234"), ("vid", "visitor-9999")], signer=SIGNER)
    assert caught.value.field == "vid"


def test_other_consent_mode_names_are_accepted_and_change_nothing() -> None:
    assert read(functionality_storage="granted").consent.label == "none"


def test_a_custom_click_token_parameter_is_read() -> None:
    token = SIGNER.token(7, 1.8e9)
    pairs = [("site", KEY), ("ref_id", token)]
    assert dni.parse(pairs, signer=SIGNER, token_param="ref_id").link_id == 7
    with pytest.raises(InvalidField):
        dni.parse([("site", KEY), ("fm_click", token)], signer=SIGNER, token_param="ref_id")


POOLS = [Pool("web", site_id=1), Pool("print", site_id=None), Pool("other", site_id=2)]


def test_the_pool_is_the_named_one_or_the_sites_only_one() -> None:
    assert dni.pick_pool(POOLS, None, 1).name == "web"
    assert dni.pick_pool(POOLS, "print", 1).name == "print"
    assert dni.pick_pool(POOLS, "other", 2).name == "other"


def test_a_pool_of_another_site_is_refused() -> None:
    with pytest.raises(Forbidden) as caught:
        dni.pick_pool(POOLS, "other", 1)
    assert caught.value.field == "pool" and caught.value.status == 403


@pytest.mark.parametrize(
    ("pools", "name", "code"),
    [
        (POOLS, "missing", "unknown_pool"),
        (POOLS, None, "unknown_pool"),  # site 3 has no pool of its own
        ([*POOLS, Pool("web2", site_id=3), Pool("web3", site_id=3)], None, "required"),
    ],
)
def test_no_pool_to_draw_from_names_the_pool_parameter(
    pools: list[Pool], name: str | None, code: str
) -> None:
    with pytest.raises(InvalidField) as caught:
        dni.pick_pool(pools, name, 3)
    assert (caught.value.field, caught.value.code) == ("pool", code)


def test_each_lease_has_its_own_unguessable_id() -> None:
    got = read()
    ids = {dni.draft(got, Pool("web"), site_id=1, now=0).id for _ in range(50)}
    assert len(ids) == 50 and all(dni.LEASE_ID.fullmatch(i) for i in ids)


def test_heartbeats_come_at_least_three_times_per_lease() -> None:
    assert dni.renew_every(Pool("web", lease_s=1800), 300) == 300
    assert dni.renew_every(Pool("web", lease_s=300), 300) == 100
    assert dni.renew_every(Pool("web", lease_s=1800), 0.2) == 1


def test_the_answer_is_the_number_else_the_fallback_else_none() -> None:
    lease = dni.draft(read(), Pool("web"), site_id=1, now=1000.5)
    taken = dni.answer(replace(lease, e164="+14155550123"), Pool("web"), renew_s=300)
    assert taken == {
        "number": "+14155550123", "display": "+1 415-555-0123", "lease": lease.id,
        "expires": 2800, "renew_s": 300, "renewed": False,
    }  # fmt: skip
    fallback = dni.answer(None, Pool("web", fallback="+442071838750"), renew_s=300)
    assert (fallback["number"], fallback["display"], fallback["lease"]) == (
        "+442071838750",
        "+44 20 7183 8750",
        None,
    )
    assert dni.answer(None, Pool("web"), renew_s=300)["number"] is None
