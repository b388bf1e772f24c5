"""Requests as built, validated with the platforms' own packages and specs: Google's Data
Manager and Google Ads API protos (google-ads-datamanager, google-ads) through
`json_format.ParseDict`, which refuses unknown fields, wrong types and unknown enum values;
Pinterest's generated client models; Snap's Conversions API V3 schemas (vendored under
specs/, unknown fields refused here)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_platform_details import CREDS, TS, item

from firstmark.domain.consent import Consent
from firstmark.forward.adapters import google_ads, pinterest, snapchat
from firstmark.forward.adapters.base import Target

json_format = pytest.importorskip("google.protobuf.json_format")
datamanager = pytest.importorskip("google.ads.datamanager_v1")
upload = pytest.importorskip("google.ads.googleads.v26.services.types.conversion_upload_service")
jsonschema = pytest.importorskip("jsonschema")
pinterest_models = pytest.importorskip("openapi_generated.pinterest_client.model.conversion_events")
pinterest_utils = pytest.importorskip("openapi_generated.pinterest_client.model_utils")
pinterest_config = pytest.importorskip("openapi_generated.pinterest_client.configuration")

SNAP = json.loads((Path(__file__).parent / "specs" / "snap-capi-v3.schema.json").read_text())
USER = {"email": "Jane.Doe@gmail.com", "phone": "+47 912 34 567", "first_name": "Jane",
        "postal_code": "94103", "external_id": "c-1"}  # fmt: skip
ITEMS = [
    item(click_ids={"gclid": "Cj0KCQ", "gbraid": "B"}, user=USER),
    item(click_ids={"wbraid": "W"}, user=USER, order_id=None, value=None, currency=None),
    item(user={"email": "x@y.co"}, consent=Consent(ad_user_data=True), source="call"),
]


def sent(request: httpx.Request) -> Any:
    return json.loads(request.content)


def strict(schema: Any) -> Any:
    """The schema with unknown properties refused, so a misspelt field fails."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if out.get("type") == "object" and "properties" in out:
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def snap_validator(definition: str) -> Any:
    schema = strict({**SNAP, "$ref": f"#/$defs/{definition}"})
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("test_mode", [False, True])
def test_google_data_manager_request_parses_as_ingest_events_request(test_mode: bool) -> None:
    t = Target("google_ads", {**CREDS, "login_account_id": "999"}, test_mode=test_mode)
    body = sent(google_ads.build(ITEMS, t, TS))
    message = json_format.ParseDict(body, datamanager.IngestEventsRequest.pb()())
    assert message.validate_only is test_mode
    assert [e.transaction_id for e in message.events] == ["O-1", "ev-1", "O-1"]
    assert message.events[0].ad_identifiers.gclid == "Cj0KCQ"
    assert not message.events[0].ad_identifiers.gbraid  # one click id only
    assert message.events[1].ad_identifiers.wbraid == "W"
    assert message.events[0].conversion_value == 120.5 and message.events[0].currency == "EUR"


def test_google_ads_legacy_request_parses_as_upload_click_conversions_request() -> None:
    t = Target("google_ads", CREDS, options={"api": "legacy"})
    body = sent(google_ads.build(ITEMS, t, TS))
    message = json_format.ParseDict(body, upload.UploadClickConversionsRequest.pb()())
    assert message.partial_failure is True
    first, braid, _ = message.conversions
    assert first.gclid == "Cj0KCQ" and not first.gbraid and len(first.user_identifiers) == 2
    assert braid.wbraid == "W" and len(braid.user_identifiers) == 0  # nothing beside a braid
    assert [c.order_id for c in message.conversions] == ["O-1", "ev-1", "O-1"]


def test_a_field_google_does_not_know_is_refused() -> None:
    body = sent(google_ads.build(ITEMS[:1], Target("google_ads", CREDS), TS))
    body["events"][0]["gclid"] = "Cj0KCQ"  # belongs in adIdentifiers
    with pytest.raises(json_format.ParseError):
        json_format.ParseDict(body, datamanager.IngestEventsRequest.pb()())


def test_pinterest_request_fits_the_generated_models() -> None:
    body = sent(pinterest.build(ITEMS, Target("pinterest", CREDS, test_mode=True), TS))
    config = pinterest_config.Configuration()
    model = pinterest_utils.validate_and_convert_types(
        copy.deepcopy(body), (pinterest_models.ConversionEvents,), ["body"], True, True, config
    )
    assert model.data[0].custom_data.value == "120.5"
    assert model.data[0].user_data.zp == [body["data"][0]["user_data"]["zp"][0]]
    wrong = copy.deepcopy(body)
    wrong["data"][0]["event_time"] = "yesterday"
    with pytest.raises(pinterest_utils.ApiTypeError):
        pinterest_utils.validate_and_convert_types(
            wrong, (pinterest_models.ConversionEvents,), ["body"], True, True, config
        )


@pytest.mark.parametrize("test_mode", [False, True])
def test_snapchat_request_fits_the_v3_schema(test_mode: bool) -> None:
    request = snapchat.build(ITEMS, Target("snapchat", CREDS, test_mode=test_mode), TS)
    assert request.url.path.endswith("/events/validate" if test_mode else "/events")
    validator = snap_validator("sendEvent_request")
    body = sent(request)
    assert list(validator.iter_errors(body)) == []
    body["data"][0]["user_data"]["email"] = ["x"]  # Snap's field is `em`
    assert list(validator.iter_errors(body)) != []


def test_snapchat_answers_are_read_as_the_v3_schema_shapes_them() -> None:
    validate = {"status": "VALID", "test_event": True, "reason": "ok", "event_logs": [
        {"event": 0, "status": "VALID"},
        {"event": 1, "status": "INVALID", "errors": {"codes": ["C"], "error_msgs": ["no PII"]}},
        {"event": 2, "status": "VALID", "warnings": ["late"]},
    ]}  # fmt: skip
    live = {"status": "INVALID", "event": 2, "reason": "bad", "errors": {"error_msgs": ["x"]}}
    assert list(snap_validator("ValidateResponse").iter_errors(validate)) == []
    assert list(snap_validator("EventResponse").iter_errors(live)) == []
    outcomes = snapchat.classify(httpx.Response(200, json=validate), ITEMS)
    assert [o.status for o in outcomes] == ["sent", "dead", "sent"]
    outcomes = snapchat.classify(httpx.Response(400, json=live), ITEMS)
    assert [o.status for o in outcomes] == ["retry", "retry", "dead"]


@pytest.mark.parametrize(
    ("action_source", "expected"), [("system_generated", "OTHER"), ("physical_store", "IN_STORE")]
)
def test_a_crm_deal_goes_to_google_as_an_offline_event_source(
    action_source: str, expected: str
) -> None:
    deal = item(click_ids={"gclid": "Cj0KCQ"}, user=USER, ua=None, url=None)
    deal = replace(deal, conversion=replace(deal.conversion, action_source=action_source))
    body = sent(google_ads.build([deal], Target("google_ads", CREDS), TS))
    message = json_format.ParseDict(body, datamanager.IngestEventsRequest.pb()())
    assert datamanager.EventSource(message.events[0].event_source).name == expected
    assert message.events[0].ad_identifiers.gclid == "Cj0KCQ"
