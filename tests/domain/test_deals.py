"""Deal exports read: the three CRM presets from their own column names, a generic mapping,
stages normalised, e-mail and phone hashed on arrival, every bad row listed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain import deals
from firstmark.domain.userdata import sha256
from firstmark.errors import InvalidField, InvalidFile

FIXTURES = Path(__file__).parent.parent / "fixtures" / "deals"
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC).timestamp()


def ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_salesforce_opportunities() -> None:
    found = deals.parse_csv((FIXTURES / "salesforce.csv").read_bytes(), "salesforce", now=NOW)
    assert [(d.row, d.deal_id, d.stage, d.value, d.currency) for d in found] == [
        (2, "0065g00000AbCdEAAV", "won", 12500.0, "USD"),
        (3, "0065g00000AbCdFAAV", "qualified", None, "USD"),
        (4, "0065g00000AbCdGAAV", "lost", 900.0, "USD"),
    ]
    won = found[0]
    assert won.ts == ts("2026-11-28T23:59:59+00:00")  # a day alone is its end
    assert won.gclid == "Cj0KCQiA-test-gclid"
    assert won.user_data == {"em": sha256("buyer@example.com")}


def test_pipedrive_deals() -> None:
    found = deals.parse_csv((FIXTURES / "pipedrive.csv").read_bytes(), "pipedrive", now=NOW)
    won, open_deal = found
    assert (won.deal_id, won.stage, won.value, won.currency) == ("101", "won", 4200.0, "EUR")
    assert won.ts == ts("2026-11-29T14:05:09+00:00") and won.fbclid == "IwAR-fbclid-101"
    assert won.user_data == {"em": sha256("kari@example.no"), "ph": sha256("4791234567")}
    # An open deal has no won time: its creation stands in.
    assert open_deal.stage == "qualified" and open_deal.ts == ts("2026-11-20T10:30:00+00:00")


def test_hubspot_deals_and_the_deterministic_event_id() -> None:
    text = (FIXTURES / "hubspot.csv").read_text()
    data = text.format(today="2026-12-01", click_token="", visitor_id="", phone="").encode()
    found = deals.parse_csv(data, "hubspot", now=NOW)
    assert [d.stage for d in found] == ["won", "won", "won", "lost", "qualified"]
    assert [d.event_id for d in found[:2]] == ["crm.won.9001", "crm.won.9002"]
    odd = deals.Deal(row=2, deal_id="Ünïcode deal #7", stage="won", ts=NOW)
    assert odd.event_id == deals.Deal(row=9, deal_id="Ünïcode deal #7", stage="won", ts=1).event_id
    assert odd.event_id.startswith("crm.won.") and len(odd.event_id) <= 128


def test_a_generic_file_with_a_mapping() -> None:
    data = (
        b"Id;Status;Closed;Revenue;Cur;Mail\nX-1;Won;2026-11-30T10:00:00+01:00;10,50;nok;a@b.no\n"
    )
    mapping = "deal_id=Id,stage=Status,ts=Closed,value=Revenue,currency=Cur,email=Mail"
    [deal] = deals.parse_csv(data, "generic", mapping, now=NOW)
    assert (deal.deal_id, deal.stage, deal.value, deal.currency) == ("X-1", "won", 10.5, "NOK")
    assert deal.ts == ts("2026-11-30T09:00:00+00:00")
    assert "a@b.no" not in repr(deal)
    with pytest.raises(InvalidField) as caught:
        deals.parse_csv(data, "generic", "colour=Id", now=NOW)
    assert caught.value.field == "mapping"


def test_every_bad_row_is_listed_with_its_field() -> None:
    data = (
        b"Record ID,Deal Stage,Amount,Close Date,Associated Contact Phone\n"
        b"1,closedwon,12,2026-11-30,\n"
        b"2,,12,2026-11-30,\n"
        b"3,closedwon,12,2027-06-01,\n"
        b"4,closedwon,lots,yesterday,\n"
    )
    with pytest.raises(InvalidFile) as caught:
        deals.parse_csv(data, "hubspot", currency="EUR", now=NOW)
    assert [(e.row, e.column) for e in caught.value.errors] == [
        (3, "stage"), (4, "ts"), (5, "ts"), (5, "value"),
    ]  # fmt: skip


def test_a_value_needs_a_currency_and_a_header_needs_the_required_columns() -> None:
    data = b"Record ID,Deal Stage,Amount,Close Date\n1,closedwon,12,2026-11-30\n"
    with pytest.raises(InvalidFile) as caught:
        deals.parse_csv(data, "hubspot", now=NOW)
    assert [(e.row, e.column) for e in caught.value.errors] == [(2, "currency")]
    assert deals.parse_csv(data, "hubspot", currency="eur", now=NOW)[0].currency == "EUR"
    with pytest.raises(InvalidField) as missing:
        deals.parse_csv(b"Record ID,Amount\n1,2\n", "hubspot", now=NOW)
    assert "stage, ts" in missing.value.message


@pytest.mark.parametrize(
    ("stage", "normal"),
    [
        ("closedwon", "won"), ("Closed Won", "won"), ("WON", "won"), ("closed_won", "won"),
        ("closedlost", "lost"), ("Closed Lost", "lost"), ("deleted", "lost"),
        ("appointmentscheduled", "qualified"), ("Qualification", "qualified"),
        ("open", "qualified"),
    ],
)  # fmt: skip
def test_stages(stage: str, normal: str) -> None:
    assert deals.normalise_stage(stage) == normal


@given(st.text(max_size=40))
def test_a_stage_is_always_one_of_three(text: str) -> None:
    assert deals.normalise_stage(text) in deals.STAGES
    assert deals.normalise_stage(deals.normalise_stage(text)) == deals.normalise_stage(text)


def test_json_deals_are_read_like_rows() -> None:
    found = deals.parse_json(
        {"deals": [{"deal_id": 7, "stage": "won", "ts": 1796000000, "value": 5,
                    "currency": "EUR", "phone": "+47 912 34 567"}]},
        now=NOW,
    )  # fmt: skip
    assert found[0].deal_id == "7" and found[0].ts == 1796000000.0
    assert found[0].user_data == {"ph": sha256("4791234567")}
    with pytest.raises(InvalidFile) as caught:
        deals.parse_json({"deals": [{"deal_id": "1", "stage": "won", "colour": "red"}]}, now=NOW)
    assert [(e.row, e.column) for e in caught.value.errors] == [(1, "colour")]


def test_a_json_deal_may_name_its_time_as_a_crm_does() -> None:
    [deal] = deals.parse_json(
        {"deals": [{"deal_id": "1", "stage": "won", "close_date": "2026-11-30"}]}, now=NOW
    )
    assert deal.ts == ts("2026-11-30T23:59:59+00:00")
    with pytest.raises(InvalidFile) as caught:
        deals.parse_json(
            {"deals": [{"deal_id": "1", "stage": "won", "ts": 1796000000, "time": 1796000001}]},
            now=NOW,
        )
    assert [(e.row, e.column) for e in caught.value.errors] == [(1, "ts")]
