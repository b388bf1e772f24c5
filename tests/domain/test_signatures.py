"""Provider webhook signatures: Twilio against its official validator, Vonage JWTs and
Telnyx Ed25519 signatures made here with fresh keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from twilio.request_validator import HMAC_SHA256, RequestValidator

from firstmark.domain.signatures import (
    telnyx_valid,
    twilio_algorithm,
    twilio_valid,
    vonage_valid,
)

TOKEN = "12345678901234567890123456789012"
URL = "https://calls.example.com/hooks/twilio/voice"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "AccountSid": "AC0123456789abcdef",
    "From": "+14158675310",
    "To": "+14155550100",
    "CallStatus": "ringing",
    "Direction": "inbound",
    "CallerName": "Ann & Bob <Ltd>",
}


# --- Twilio -------------------------------------------------------------------------------


def test_twilio_signature_from_the_official_validator_is_accepted() -> None:
    signature = RequestValidator(TOKEN).compute_signature(URL, PARAMS)
    assert twilio_valid(TOKEN, URL, PARAMS, signature)
    assert twilio_valid(TOKEN, URL, list(PARAMS.items()), signature)


@pytest.mark.parametrize(
    "change",
    [
        {"To": "+14155550199"},  # a tampered parameter
        {"Extra": "1"},  # a parameter added
        {"CallSid": "CA1234567890ABCDF"},
    ],
)
def test_twilio_tampered_parameters_are_refused(change: dict[str, str]) -> None:
    signature = RequestValidator(TOKEN).compute_signature(URL, PARAMS)
    assert not twilio_valid(TOKEN, URL, {**PARAMS, **change}, signature)


def test_twilio_missing_parameter_is_refused() -> None:
    signature = RequestValidator(TOKEN).compute_signature(URL, PARAMS)
    fewer = {k: v for k, v in PARAMS.items() if k != "From"}
    assert not twilio_valid(TOKEN, URL, fewer, signature)


@pytest.mark.parametrize(
    "url",
    [
        "https://calls.example.com/hooks/twilio/status",
        "http://calls.example.com/hooks/twilio/voice",
        "https://evil.example.com/hooks/twilio/voice",
        URL + "?x=1",
    ],
)
def test_twilio_other_url_is_refused(url: str) -> None:
    signature = RequestValidator(TOKEN).compute_signature(URL, PARAMS)
    assert not twilio_valid(TOKEN, url, PARAMS, signature)


@pytest.mark.parametrize("signature", [None, "", "garbage", "A" * 28, "=" * 400])
def test_twilio_missing_or_garbage_signature_is_refused(signature: str | None) -> None:
    assert not twilio_valid(TOKEN, URL, PARAMS, signature)


def test_twilio_wrong_token_and_empty_token_are_refused() -> None:
    signature = RequestValidator(TOKEN).compute_signature(URL, PARAMS)
    assert not twilio_valid("another-token", URL, PARAMS, signature)
    assert not twilio_valid("", URL, PARAMS, signature)


def test_twilio_url_with_or_without_default_port() -> None:
    # Twilio sometimes signs https://host:443/…, sometimes https://host/…; both verify.
    with_port = "https://calls.example.com:443/hooks/twilio/voice"
    for signed in (URL, with_port):
        signature = RequestValidator(TOKEN).compute_signature(signed, PARAMS)
        assert twilio_valid(TOKEN, URL, PARAMS, signature)
        assert twilio_valid(TOKEN, with_port, PARAMS, signature)


def test_twilio_query_string_is_part_of_the_signed_url() -> None:
    url = URL + "?number=7&b=a%20b"
    signature = RequestValidator(TOKEN).compute_signature(url, PARAMS)
    assert twilio_valid(TOKEN, url, PARAMS, signature)
    assert not twilio_valid(TOKEN, URL + "?number=8&b=a%20b", PARAMS, signature)


def test_twilio_repeated_parameters_follow_the_official_order() -> None:
    class Multi(dict[str, list[str]]):
        def getall(self, name: str) -> list[str]:
            return self[name]

    pairs = [("To", "+14155550100"), ("Digits", "9"), ("Digits", "1"), ("Digits", "5")]
    multi = Multi()
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    signature = RequestValidator(TOKEN).compute_signature(URL, multi)
    assert twilio_valid(TOKEN, URL, pairs, signature)
    assert not twilio_valid(TOKEN, URL, pairs[:-1], signature)


def test_twilio_sha256_variant_is_accepted_likewise() -> None:
    shared = secrets.token_urlsafe(32)
    signature = RequestValidator(shared).compute_signature(URL, PARAMS, HMAC_SHA256)
    assert twilio_valid(shared, URL, PARAMS, signature, sha256=True)
    assert not twilio_valid(shared, URL, PARAMS, signature)  # the SHA-1 check fails
    assert not twilio_valid(shared, URL, {**PARAMS, "To": "+1"}, signature, sha256=True)
    assert not twilio_valid(TOKEN, URL, PARAMS, signature, sha256=True)


@pytest.mark.parametrize(
    ("header", "algorithm"),
    [
        (None, "HMAC_SHA1"),
        ("", "HMAC_SHA1"),
        ("key=webhooks_sharedkey_1,algorithm=HMAC_SHA256", "HMAC_SHA256"),
        ("key=webhooks_sharedkey_1, algorithm=HMAC_SHA1", "HMAC_SHA1"),
        ("key=webhooks_sharedkey_1", "HMAC_SHA1"),
        ("key=k,algorithm=HMAC_SHA512", None),
    ],
)
def test_twilio_settings_header_names_the_algorithm(header: str | None, algorithm: str) -> None:
    assert twilio_algorithm(header) == algorithm


def test_twilio_json_body_is_checked_through_body_sha256() -> None:
    body = b'{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}'
    url = URL + "?bodySHA256=" + hashlib.sha256(body).hexdigest()
    validator = RequestValidator(TOKEN)
    signature = validator.compute_signature(url, {})
    assert validator.validate(url, body.decode(), signature)
    assert twilio_valid(TOKEN, url, {}, signature, body=body)
    assert not twilio_valid(TOKEN, url, {}, signature, body=body.replace(b"030", b"031"))
    assert not twilio_valid(TOKEN, url, {}, signature)  # no body to check


# --- Vonage -------------------------------------------------------------------------------

NOW = 1_760_000_000.0


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(
    secret: str,
    claims: dict[str, Any],
    *,
    alg: str = "HS256",
    signer: str | None = None,
) -> str:
    head = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    signing = f"{head}.{body}".encode()
    sig = (
        b""
        if alg == "none"
        else hmac.new((signer or secret).encode(), signing, hashlib.sha256).digest()
    )
    return f"{head}.{body}.{b64url(sig)}"


def vonage_claims(body: bytes, **extra: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iat": int(NOW) - 5,
        "jti": secrets.token_hex(8),
        "iss": "Vonage",
        "payload_hash": hashlib.sha256(body).hexdigest(),
        "api_key": "abcd1234",
        "application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
    }
    claims.update(extra)
    return claims


EVENT = json.dumps(
    {
        "from": "447700900000",
        "to": "442079460000",
        "uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "conversation_uuid": "CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "status": "completed",
        "direction": "outbound",
        "duration": "75",
    },
    separators=(",", ":"),
).encode()


@pytest.fixture
def secret() -> str:
    return secrets.token_urlsafe(32)


def test_vonage_signed_event_is_accepted(secret: str) -> None:
    token = make_jwt(secret, vonage_claims(EVENT))
    assert vonage_valid(secret, f"Bearer {token}", EVENT, NOW)
    assert vonage_valid(secret, token, EVENT, NOW)


def test_vonage_wrong_secret_is_refused(secret: str) -> None:
    token = make_jwt(secret, vonage_claims(EVENT), signer="not-the-secret")
    assert not vonage_valid(secret, f"Bearer {token}", EVENT, NOW)


@pytest.mark.parametrize("alg", ["none", "HS512", "RS256", "hs256"])
def test_vonage_other_algorithms_are_refused(secret: str, alg: str) -> None:
    token = make_jwt(secret, vonage_claims(EVENT), alg=alg)
    assert not vonage_valid(secret, f"Bearer {token}", EVENT, NOW)


def test_vonage_unsigned_token_with_empty_signature_is_refused(secret: str) -> None:
    token = make_jwt(secret, vonage_claims(EVENT))
    head, claims, _ = token.split(".")
    assert not vonage_valid(secret, f"Bearer {head}.{claims}.", EVENT, NOW)


def test_vonage_altered_body_is_refused(secret: str) -> None:
    token = make_jwt(secret, vonage_claims(EVENT))
    altered = EVENT.replace(b'"75"', b'"750"')
    assert not vonage_valid(secret, f"Bearer {token}", altered, NOW)


def test_vonage_body_without_payload_hash_is_refused(secret: str) -> None:
    claims = vonage_claims(EVENT)
    del claims["payload_hash"]
    assert not vonage_valid(secret, make_jwt(secret, claims), EVENT, NOW)


def test_vonage_payload_hash_of_the_compact_json_is_accepted(secret: str) -> None:
    # Vonage documents the hash over the JSON without whitespace; a pretty-printed body
    # carrying that hash still verifies.
    pretty = json.dumps(json.loads(EVENT), indent=2).encode()
    token = make_jwt(secret, vonage_claims(EVENT))
    assert vonage_valid(secret, token, pretty, NOW)


def test_vonage_get_query_is_covered_by_the_payload_hash(secret: str) -> None:
    query = [("to", "442079460000"), ("from", "447700900000"), ("uuid", "u1")]
    compact = json.dumps(dict(query), separators=(",", ":")).encode()
    token = make_jwt(secret, vonage_claims(compact))
    assert vonage_valid(secret, token, b"", NOW, query=query)
    tampered = [("to", "442079460001"), *query[1:]]
    assert not vonage_valid(secret, token, b"", NOW, query=tampered)


@pytest.mark.parametrize("iat", [NOW - 3600, NOW - 301, NOW + 3600])
def test_vonage_stale_or_future_iat_is_refused(secret: str, iat: float) -> None:
    token = make_jwt(secret, vonage_claims(EVENT, iat=int(iat)))
    assert not vonage_valid(secret, token, EVENT, NOW)


def test_vonage_iat_within_max_age_and_skew_is_accepted(secret: str) -> None:
    for iat in (NOW - 299, NOW + 30):
        token = make_jwt(secret, vonage_claims(EVENT, iat=int(iat)))
        assert vonage_valid(secret, token, EVENT, NOW)
    old = make_jwt(secret, vonage_claims(EVENT, iat=int(NOW - 1000)))
    assert vonage_valid(secret, old, EVENT, NOW, max_age=1200)


def test_vonage_missing_iat_or_passed_exp_is_refused(secret: str) -> None:
    claims = vonage_claims(EVENT)
    del claims["iat"]
    assert not vonage_valid(secret, make_jwt(secret, claims), EVENT, NOW)
    expired = make_jwt(secret, vonage_claims(EVENT, exp=int(NOW) - 600))
    assert not vonage_valid(secret, expired, EVENT, NOW)


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer a.b", "Bearer !!.??.**", "Basic dXNlcjpwYXNz"]
)
def test_vonage_missing_or_garbage_token_is_refused(secret: str, header: str | None) -> None:
    assert not vonage_valid(secret, header, EVENT, NOW)


def test_vonage_empty_secret_refuses_everything() -> None:
    token = make_jwt("", vonage_claims(EVENT))
    assert not vonage_valid("", token, EVENT, NOW)


# --- Telnyx -------------------------------------------------------------------------------

BODY = b"AccountSid=acc&CallSid=v3%3Aabc&CallStatus=completed&CallDuration=75"


@pytest.fixture
def telnyx_key() -> tuple[Ed25519PrivateKey, str]:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private, base64.b64encode(public).decode()


def telnyx_sign(private: Ed25519PrivateKey, timestamp: str, body: bytes) -> str:
    return base64.b64encode(private.sign(timestamp.encode() + b"|" + body)).decode()


def test_telnyx_valid_signature_is_accepted(telnyx_key: tuple[Ed25519PrivateKey, str]) -> None:
    private, public = telnyx_key
    stamp = str(int(NOW) - 10)
    assert telnyx_valid(public, telnyx_sign(private, stamp, BODY), stamp, BODY, NOW)


def test_telnyx_altered_body_is_refused(telnyx_key: tuple[Ed25519PrivateKey, str]) -> None:
    private, public = telnyx_key
    stamp = str(int(NOW))
    signature = telnyx_sign(private, stamp, BODY)
    assert not telnyx_valid(public, signature, stamp, BODY.replace(b"75", b"750"), NOW)


def test_telnyx_wrong_key_is_refused(telnyx_key: tuple[Ed25519PrivateKey, str]) -> None:
    private, _ = telnyx_key
    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    stamp = str(int(NOW))
    signature = telnyx_sign(private, stamp, BODY)
    assert not telnyx_valid(base64.b64encode(other).decode(), signature, stamp, BODY, NOW)


def test_telnyx_stale_or_future_timestamp_is_refused(
    telnyx_key: tuple[Ed25519PrivateKey, str],
) -> None:
    private, public = telnyx_key
    for stamp in (str(int(NOW) - 301), str(int(NOW) + 301)):
        assert not telnyx_valid(public, telnyx_sign(private, stamp, BODY), stamp, BODY, NOW)


def test_telnyx_timestamp_is_part_of_the_signed_message(
    telnyx_key: tuple[Ed25519PrivateKey, str],
) -> None:
    private, public = telnyx_key
    signature = telnyx_sign(private, str(int(NOW)), BODY)
    assert not telnyx_valid(public, signature, str(int(NOW) - 1), BODY, NOW)


@pytest.mark.parametrize(
    ("signature", "public", "stamp"),
    [
        ("not base64!", None, None),
        (base64.b64encode(b"short").decode(), None, None),
        (None, "not a key!", None),
        (None, base64.b64encode(b"k" * 31).decode(), None),
        (None, None, "yesterday"),
        (None, None, "\u0661\u0667\u0666\u0660"),  # digits, but not ASCII ones
        (None, None, ""),
        ("", None, None),
    ],
)
def test_telnyx_bad_base64_or_headers_are_refused(
    telnyx_key: tuple[Ed25519PrivateKey, str],
    signature: str | None,
    public: str | None,
    stamp: str | None,
) -> None:
    private, good_public = telnyx_key
    good_stamp = str(int(NOW))
    good_signature = telnyx_sign(private, good_stamp, BODY)
    assert not telnyx_valid(
        public or good_public,
        good_signature if signature is None else signature,
        good_stamp if stamp is None else stamp,
        BODY,
        NOW,
    )
