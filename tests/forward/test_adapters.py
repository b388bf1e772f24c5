"""Each adapter builds the documented request, field by field, and reads the platform's
answer into one outcome per event."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.userdata import hash_user_data
from firstmark.forward.adapters import ADAPTERS, google_ads, meta
from firstmark.forward.adapters.base import Outgoing, Target, retry_after

TS = 1_764_072_000.5  # 2025-11-25T12:00:00.5Z
USER = hash_user_data(
    {"email": "Jane.Doe@gmail.com", "phone": "+47 912 34 567", "first_name": "Jane",
     "external_id": "cust-42"}
)  # fmt: skip
EM = hashlib.sha256(b"jane.doe@gmail.com").hexdigest()
EM_GOOGLE = hashlib.sha256(b"janedoe@gmail.com").hexdigest()
PH = hashlib.sha256(b"4791234567").hexdigest()
PH_PLUS = hashlib.sha256(b"+4791234567").hexdigest()
IP, UA = "203.0.113.9", "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"
CLICKS = {
    "fbclid": "IwAR0xYz", "gclid": "Cj0KCQ", "ttclid": "E.C.P.abc", "li_fat_id": "df5g-1",
    "msclkid": "0f3c9a1b2d4e5f60718293a4b5c6d7e8", "ScCid": "sc-1", "rdt_cid": "rdt-1",
    "epik": "dj0yJnU9",
}  # fmt: skip


def outgoing(event_name: str = "Purchase", **kw: Any) -> Outgoing:
    conv = Conversion(
        event_id="order-1001", goal_id=1, goal="purchase", ts=TS, source="server",
        consent=Consent(analytics=True, ad_user_data=True, ad_personalization=False),
        value=120.5, currency="EUR", order_id="O-1001", visitor_id="v-12345678",
        user_data=USER, id=7,
    )  # fmt: skip
    fields: dict[str, Any] = {
        "click_ids": CLICKS, "client_ip": IP, "user_agent": UA,
        "page_url": "https://shop.example/checkout/done",
    }  # fmt: skip
    fields.update(kw)
    return Outgoing(outbox_id=1, conversion=conv, event_name=event_name, **fields)


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def target(platform: str, credentials: dict[str, str], **kw: Any) -> Target:
    return Target(platform=platform, credentials=credentials, **kw)


def test_meta_payload() -> None:
    t = target("meta", {"pixel_id": "123", "access_token": "EAAB"}, test_mode=True,
               options={"test_event_code": "TEST123", "limited_data_use": True})  # fmt: skip
    request = meta.build([outgoing()], t, TS)
    assert request.method == "POST"
    assert str(request.url) == "https://graph.facebook.com/v25.0/123/events"
    assert "EAAB" not in str(request.url)
    sent = body(request)
    assert sent["access_token"] == "EAAB" and sent["test_event_code"] == "TEST123"
    [event] = sent["data"]
    assert event == {
        "event_name": "Purchase",
        "event_time": 1764072000,
        "event_id": "order-1001",
        "action_source": "website",
        "event_source_url": "https://shop.example/checkout/done",
        "user_data": {
            "em": [EM], "ph": [PH], "fn": [hashlib.sha256(b"jane").hexdigest()],
            "external_id": [hashlib.sha256(b"cust-42").hexdigest()],
            "client_ip_address": IP, "client_user_agent": UA,
            "fbc": "fb.1.1764072000500.IwAR0xYz",
        },
        "custom_data": {"value": 120.5, "currency": "EUR", "order_id": "O-1001"},
        "data_processing_options": ["LDU"],
        "data_processing_options_country": 0,
        "data_processing_options_state": 0,
    }  # fmt: skip


def test_meta_forwards_an_existing_fbc_byte_for_byte_and_fbp() -> None:
    cookie = "fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890"
    item = outgoing(click_ids={"fbc": cookie, "fbclid": "other", "fbp": "fb.1.1558.1098"})
    event = body(meta.build([item], target("meta", {"pixel_id": "1", "access_token": "t"}), TS))
    assert event["data"][0]["user_data"]["fbc"] == cookie
    assert event["data"][0]["user_data"]["fbp"] == "fb.1.1558.1098"
    assert "test_event_code" not in event


def test_meta_fbc_takes_the_time_the_fbclid_was_seen() -> None:
    item = outgoing(click_ids={"fbclid": "IwAR0xYz", "fbclid_at": "1764000000123"})
    event = body(meta.build([item], target("meta", {"pixel_id": "1", "access_token": "t"}), TS))
    assert event["data"][0]["user_data"]["fbc"] == "fb.1.1764000000123.IwAR0xYz"


@pytest.mark.parametrize(
    ("source", "ua", "expected"),
    [("call", None, "phone_call"), ("web", None, "other"), ("server", None, "other")],
)
def test_meta_action_source(source: str, ua: str | None, expected: str) -> None:
    item = outgoing(user_agent=ua)
    item = Outgoing(1, Conversion(**{**_fields(item.conversion), "source": source}), "Lead")
    assert meta.action_source(item, target("meta", {})) == expected


@pytest.mark.parametrize("chosen", ["system_generated", "physical_store"])
def test_meta_sends_a_crm_deals_own_action_source(chosen: str) -> None:
    item = outgoing()  # with a page URL and a user agent, which would make it `website`
    deal = Outgoing(
        1, Conversion(**{**_fields(item.conversion), "action_source": chosen}), "Purchase",
        page_url=item.page_url, user_agent=item.user_agent,
    )  # fmt: skip
    configured = target("meta", {}, options={"action_source": "other"})
    assert meta.action_source(deal, configured) == chosen


@pytest.mark.parametrize(
    ("platform", "web", "call"), [("pinterest", "web", "offline"), ("snapchat", "WEB", "OFFLINE")]
)
def test_a_phone_call_is_an_offline_event(platform: str, web: str, call: str) -> None:
    creds = {"ad_account_id": "549", "pixel_id": "px-1", "access_token": "t"}
    item = outgoing("lead")
    phoned = Outgoing(1, Conversion(**{**_fields(item.conversion), "source": "call"}), "lead")
    sent = [body(ADAPTERS[platform].build([i], target(platform, creds), TS))["data"][0]
            for i in (item, phoned)]  # fmt: skip
    assert [e["action_source"] for e in sent] == [web, call]


def _fields(conv: Conversion) -> dict[str, Any]:
    return {name: getattr(conv, name) for name in conv.__slots__}


def test_google_data_manager_payload() -> None:
    t = target("google_ads", {"operating_account_id": "123-456-7890", "access_token": "ya29",
                              "login_account_id": "999"}, test_mode=True)  # fmt: skip
    request = google_ads.build([outgoing("555"), outgoing("777")], t, TS)
    assert str(request.url) == "https://datamanager.googleapis.com/v1/events:ingest"
    assert request.headers["authorization"] == "Bearer ya29"
    sent = body(request)
    assert sent["validateOnly"] is True and sent["encoding"] == "HEX"
    assert sent["destinations"][0] == {
        "reference": "555",
        "operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "1234567890"},
        "productDestinationId": "555",
        "loginAccount": {"accountType": "GOOGLE_ADS", "accountId": "999"},
    }
    assert [d["reference"] for d in sent["destinations"]] == ["555", "777"]
    assert sent["events"][0] == {
        "destinationReferences": ["555"],
        "transactionId": "O-1001",
        "eventTimestamp": "2025-11-25T12:00:00Z",
        "eventSource": "WEB",
        "consent": {"adUserData": "CONSENT_GRANTED", "adPersonalization": "CONSENT_DENIED"},
        "adIdentifiers": {"gclid": "Cj0KCQ"},
        "userData": {"userIdentifiers": [{"emailAddress": EM_GOOGLE}, {"phoneNumber": PH_PLUS}]},
        "conversionValue": 120.5,
        "currency": "EUR",
    }


def test_google_legacy_upload_payload() -> None:
    t = target("google_ads", {"operating_account_id": "1234567890", "access_token": "ya29",
                              "developer_token": "dev", "login_account_id": "111-222-3333"},
               options={"api": "legacy"})  # fmt: skip
    request = google_ads.build([outgoing("555")], t, TS)
    assert str(request.url) == (
        "https://googleads.googleapis.com/v26/customers/1234567890:uploadClickConversions"
    )
    assert request.headers["developer-token"] == "dev"
    assert request.headers["login-customer-id"] == "1112223333"
    sent = body(request)
    assert sent["partialFailure"] is True and sent["validateOnly"] is False
    assert sent["conversions"][0] == {
        "conversionAction": "customers/1234567890/conversionActions/555",
        "conversionDateTime": "2025-11-25 12:00:00+00:00",
        "orderId": "O-1001",
        "consent": {"adUserData": "GRANTED", "adPersonalization": "DENIED"},
        "gclid": "Cj0KCQ",
        "conversionValue": 120.5,
        "currencyCode": "EUR",
        "userIdentifiers": [{"hashedEmail": EM_GOOGLE}, {"hashedPhoneNumber": PH_PLUS}],
    }


def test_ga4_payload_and_debug_endpoint_in_test_mode() -> None:
    creds = {"measurement_id": "G-ABC", "api_secret": "s3cret"}
    adapter = ADAPTERS["ga4"]
    live = adapter.build([outgoing("purchase")], target("ga4", creds), TS)
    assert live.url.path == "/mp/collect"
    assert dict(live.url.params) == {"measurement_id": "G-ABC", "api_secret": "s3cret"}
    test = adapter.build([outgoing("purchase")], target("ga4", creds, test_mode=True), TS)
    assert test.url.path == "/debug/mp/collect"
    assert body(live) == {
        "client_id": "v-12345678",
        "consent": {"ad_user_data": "GRANTED", "ad_personalization": "DENIED"},
        "user_id": hashlib.sha256(b"cust-42").hexdigest(),
        "user_data": {"sha256_email_address": [EM_GOOGLE], "sha256_phone_number": [PH_PLUS]},
        "events": [
            {
                "name": "purchase",
                "timestamp_micros": 1764072000500000,
                "params": {"transaction_id": "O-1001", "engagement_time_msec": 1,
                           "value": 120.5, "currency": "EUR"},
            }
        ],
    }  # fmt: skip


def test_tiktok_payload() -> None:
    t = target("tiktok", {"pixel_code": "CABC", "access_token": "tt"}, test_mode=True,
               options={"test_event_code": "TEST1"})  # fmt: skip
    request = ADAPTERS["tiktok"].build([outgoing("CompletePayment")], t, TS)
    assert str(request.url) == "https://business-api.tiktok.com/open_api/v1.3/event/track/"
    assert request.headers["access-token"] == "tt"
    assert body(request) == {
        "event_source": "web",
        "event_source_id": "CABC",
        "test_event_code": "TEST1",
        "data": [
            {
                "event": "CompletePayment",
                "event_time": 1764072000,
                "event_id": "order-1001",
                "user": {
                    "email": EM, "phone": PH_PLUS,
                    "external_id": hashlib.sha256(b"cust-42").hexdigest(),
                    "ttclid": "E.C.P.abc", "ip": IP, "user_agent": UA,
                },
                "page": {"url": "https://shop.example/checkout/done"},
                "properties": {
                    "content_type": "product", "value": 120.5, "currency": "EUR",
                    "order_id": "O-1001",
                    "contents": [{"content_id": "O-1001", "price": 120.5, "quantity": 1}],
                },
            }
        ],
    }  # fmt: skip


def test_linkedin_payload() -> None:
    request = ADAPTERS["linkedin"].build(
        [outgoing("104012")], target("linkedin", {"access_token": "li"}), TS
    )
    assert str(request.url) == "https://api.linkedin.com/rest/conversionEvents"
    headers = request.headers
    assert headers["authorization"] == "Bearer li" and headers["linkedin-version"] == "202603"
    assert headers["x-restli-protocol-version"] == "2.0.0"
    assert headers["x-restli-method"] == "BATCH_CREATE"
    assert body(request) == {
        "elements": [
            {
                "conversion": "urn:lla:llaPartnerConversion:104012",
                "conversionHappenedAt": 1764072000500,
                "eventId": "order-1001",
                "user": {
                    "userIds": [
                        {"idType": "SHA256_EMAIL", "idValue": EM},
                        {"idType": "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID", "idValue": "df5g-1"},
                    ]
                },
                "conversionValue": {"currencyCode": "EUR", "amount": "120.50"},
            }
        ]
    }


def test_microsoft_payload() -> None:
    t = target("microsoft", {"tag_id": "97267979", "access_token": "ms"})
    request = ADAPTERS["microsoft"].build([outgoing("purchase")], t, TS)
    assert str(request.url) == "https://capi.uet.microsoft.com/v1/97267979/events"
    assert request.headers["authorization"] == "Bearer ms"
    assert body(request) == {
        "data": [
            {
                "eventType": "custom",
                "eventName": "purchase",
                "eventId": "order-1001",
                "eventTime": 1764072000,
                "adStorageConsent": "D",  # no ad_storage consent
                "userData": {"em": EM, "ph": PH_PLUS, "msclkid": "0f3c9a1b2d4e5f60718293a4b5c6d7e8",
                             "clientIpAddress": IP, "clientUserAgent": UA},
                "eventSourceUrl": "https://shop.example/checkout/done",
                "customData": {"value": 120.5, "currency": "EUR", "transactionId": "O-1001"},
            }
        ],
        "continueOnValidationError": True,
    }  # fmt: skip


def test_pinterest_payload_and_test_flag() -> None:
    t = target("pinterest", {"ad_account_id": "549", "access_token": "pina"}, test_mode=True)
    request = ADAPTERS["pinterest"].build([outgoing("checkout")], t, TS)
    assert request.url.path == "/v5/ad_accounts/549/events"
    assert dict(request.url.params) == {"test": "true"}
    [event] = body(request)["data"]
    assert event["event_name"] == "checkout" and event["action_source"] == "web"
    assert event["user_data"]["em"] == [EM] and event["user_data"]["ph"] == [PH]
    assert event["user_data"]["click_id"] == "dj0yJnU9"
    assert event["user_data"]["client_ip_address"] == IP
    assert event["custom_data"] == {"value": "120.5", "currency": "EUR", "order_id": "O-1001"}


def test_snapchat_payload() -> None:
    t = target("snapchat", {"pixel_id": "px-1", "access_token": "snap"})
    request = ADAPTERS["snapchat"].build([outgoing("PURCHASE")], t, TS)
    assert request.url.path == "/v3/px-1/events"
    assert dict(request.url.params) == {"access_token": "snap"}
    [event] = body(request)["data"]
    assert event["action_source"] == "WEB" and event["event_name"] == "PURCHASE"
    assert event["user_data"]["sc_click_id"] == "sc-1" and event["user_data"]["ph"] == [PH]


@pytest.mark.parametrize(
    ("name", "kind"),
    [("Purchase", {"tracking_type": "PURCHASE"}),
     ("newsletter", {"tracking_type": "CUSTOM", "custom_event_name": "newsletter"})],
)  # fmt: skip
def test_reddit_payload(name: str, kind: dict[str, str]) -> None:
    t = target("reddit", {"pixel_id": "a2_px", "access_token": "rd"}, test_mode=True,
               options={"test_id": "t2_test"})  # fmt: skip
    request = ADAPTERS["reddit"].build([outgoing(name)], t, TS)
    assert str(request.url) == "https://ads-api.reddit.com/api/v3/pixels/a2_px/conversion_events"
    assert request.headers["authorization"] == "Bearer rd"
    sent = body(request)
    assert sent["data"]["test_id"] == "t2_test" and "test_id" not in sent
    value = {"value": 120.5, "currency": "EUR"}
    assert sent["data"]["events"] == [
        {
            "event_at": 1764072000500,
            "action_source": "WEBSITE",
            "type": kind,
            "metadata": {"conversion_id": "order-1001", **value},
            "user": {"email": EM_GOOGLE, "phone_number": PH_PLUS,
                     "external_id": hashlib.sha256(b"cust-42").hexdigest(),
                     "ip_address": IP, "user_agent": UA},
            "click_id": "rdt-1",
        }
    ]  # fmt: skip


def test_endpoint_base_overrides_every_platform() -> None:
    creds = {k: "x" for k in ("pixel_id", "access_token", "operating_account_id",
             "measurement_id", "api_secret", "pixel_code", "tag_id", "ad_account_id")}  # fmt: skip
    for platform, adapter in ADAPTERS.items():
        t = target(platform, creds, endpoint_base="http://127.0.0.1:9/proxy")
        request = adapter.build([outgoing("1")], t, TS)
        assert str(request.url).startswith("http://127.0.0.1:9/proxy/"), platform
        assert adapter.MAX_BATCH >= 1 and adapter.CHECKED == "2026-11-25"


# --- classifying answers ---------------------------------------------------------------------


def answer(status: int, data: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    content = b"" if data is None else json.dumps(data).encode()
    return httpx.Response(status, content=content, headers=headers)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (answer(200, {"events_received": 2}), ["sent", "sent"]),
        (answer(400, {"error": {"message": "Invalid parameter", "code": 100}}), ["dead", "dead"]),
        (answer(400, {"error": {"message": "Too many calls", "code": 17}}), ["retry", "retry"]),
        (answer(503, {"error": {"message": "down"}}), ["retry", "retry"]),
        (answer(501), ["dead", "dead"]),
        (answer(401, {"error": {"message": "bad token", "code": 190}}), ["dead", "dead"]),
    ],
)
def test_meta_answers(response: httpx.Response, expected: list[str]) -> None:
    outcomes = meta.classify(response, [outgoing(), outgoing()])
    assert [o.status for o in outcomes] == expected


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after(answer(429, headers={"retry-after": "120"})) == 120
    date = "Wed, 25 Nov 2026 12:02:00 GMT"
    assert retry_after(answer(429, headers={"retry-after": date}), now=1795608000.0) == 120
    assert retry_after(answer(429, headers={"retry-after": "soon"})) is None
    [outcome] = meta.classify(answer(429, {}, {"retry-after": "7"}), [outgoing()])
    assert outcome.status == "retry" and outcome.retry_after == 7


def test_google_blames_single_events_and_resends_the_rest() -> None:
    refused = answer(
        400,
        {"error": {"code": 400, "message": "invalid", "status": "INVALID_ARGUMENT", "details": [
            {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [
                {"field": "events[1].adIdentifiers.gclid", "description": "gclid is malformed"}
            ]}]}},
    )  # fmt: skip
    outcomes = google_ads.classify(refused, [outgoing(), outgoing(), outgoing()])
    assert [o.status for o in outcomes] == ["retry", "dead", "retry"]
    assert "gclid is malformed" in (outcomes[1].message or "")
    partial = answer(
        200,
        {"partialFailureError": {"code": 3, "message": "1 error", "details": [{"errors": [
            {"message": "The click is too old", "location": {"fieldPathElements": [
                {"fieldName": "conversions", "index": 0}, {"fieldName": "gclid"}]}}]}]},
         "results": [{}, {"gclid": "b"}]},
    )  # fmt: skip
    outcomes = google_ads.classify(partial, [outgoing(), outgoing()])
    assert [o.status for o in outcomes] == ["dead", "sent"]


@pytest.mark.parametrize(
    ("platform", "response", "expected"),
    [
        ("tiktok", answer(200, {"code": 0, "message": "OK"}), ["sent", "sent"]),
        ("tiktok", answer(200, {"code": 40002, "message": "bad pixel"}), ["dead", "dead"]),
        ("tiktok", answer(200, {"code": 40100, "message": "too fast"}), ["retry", "retry"]),
        (
            "linkedin",
            answer(
                200,
                {"elements": [{"status": 201}, {"status": 400, "error": {"message": "bad rule"}}]},
            ),
            ["sent", "dead"],
        ),
        (
            "pinterest",
            answer(
                200,
                {
                    "events": [
                        {"status": "processed"},
                        {"status": "failed", "error_message": "no em"},
                    ]
                },
            ),
            ["sent", "dead"],
        ),
        (
            "ga4",
            answer(
                200, {"validationMessages": [{"fieldPath": "events", "description": "bad name"}]}
            ),
            ["dead", "dead"],
        ),
        ("ga4", answer(204), ["sent", "sent"]),
        (
            "microsoft",
            answer(
                200, {"eventsReceived": 1, "errors": [{"index": 0, "message": "bad eventTime"}]}
            ),
            ["dead", "sent"],
        ),
        ("reddit", answer(423), ["retry", "retry"]),
        ("snapchat", answer(408), ["retry", "retry"]),
        ("snapchat", answer(403, {"message": "forbidden"}), ["dead", "dead"]),
    ],
)
def test_platform_answers(platform: str, response: httpx.Response, expected: list[str]) -> None:
    outcomes = ADAPTERS[platform].classify(response, [outgoing(), outgoing()])
    assert [o.status for o in outcomes] == expected


@given(
    email=st.emails(),
    phone=st.from_regex(r"\+[1-9][0-9]{7,12}", fullmatch=True),
    value=st.none() | st.floats(0, 1e9, allow_nan=False),
    platform=st.sampled_from(sorted(ADAPTERS)),
)
@settings(max_examples=60, deadline=None)
def test_no_adapter_ever_sends_clear_user_data(
    email: str, phone: str, value: float | None, platform: str
) -> None:
    conv = Conversion(
        event_id="e-1", goal_id=1, goal="purchase", ts=TS, source="web",
        consent=Consent(analytics=True, ad_user_data=True), value=value,
        currency="EUR" if value is not None else None,
        user_data=hash_user_data({"email": email, "phone": phone}),
    )  # fmt: skip
    creds = {k: "x" for k in ("pixel_id", "access_token", "operating_account_id",
             "measurement_id", "api_secret", "pixel_code", "tag_id", "ad_account_id")}  # fmt: skip
    request = ADAPTERS[platform].build([Outgoing(1, conv, "Purchase")], target(platform, creds), TS)
    sent = request.content.decode()
    assert email.lower() not in sent.lower() and phone.lstrip("+") not in sent
    assert "e-1" in sent
    json.loads(sent)
