"""Is this webhook really from the telephony provider? One check per provider, no IO.

A forged call webhook would plant calls (and conversions) in the reports, so every hook is
refused unless its signature holds. All comparisons are constant-time; any malformed input
simply fails the check.

Twilio (docs checked: twilio.com/docs/usage/webhooks/webhooks-security, .../webhook-shared-keys,
error 57012, and the official `twilio` package's `request_validator.py`): `X-Twilio-Signature`
is base64 HMAC over the full URL Twilio requested (query included) followed by every POST
parameter as name+value, names sorted, the values of a repeated name sorted (the official
validator also drops duplicate values). The key is the account Auth Token and the hash SHA-1.
There is no separate SHA-256 signature header: the SHA-256 variant comes from Twilio's Webhook
Settings (public beta), which sign the same string with a *SharedKey* secret you create
instead of the Auth Token, and announce it with `X-Twilio-Webhooks-Signature-Settings:
key=…,algorithm=HMAC_SHA256` (see `twilio_algorithm`). JSON-bodied webhooks carry
`bodySHA256` (hex SHA-256 of the raw body) in the signed URL instead of form parameters.
Twilio's own validator accepts the URL with and without the port (Twilio is inconsistent
about including `:443`), and so does this one.

Vonage (docs: developer.vonage.com voice webhook reference "Signed webhooks", Messages
"signed-webhooks", Vonage support "verify that the Voice API webhook … has not been tampered",
vonage-python-sdk `verify_jwt.py`): `Authorization: Bearer <JWT>`, HS256 with the account's
*signature secret*; claims `iat`, `jti`, `iss` ("Vonage"), `api_key`, `application_id` and
`payload_hash`, the hex SHA-256 of the payload. Vonage hashes the JSON body for POST and, for
a GET, the query parameters as a compact JSON object in their order.

Telnyx (docs: developers.telnyx.com TeXML callback reference, Python SDK webhooks page,
telnyx-python `lib/webhook_verification.py`): `telnyx-signature-ed25519` is the base64 Ed25519
signature of `f"{telnyx-timestamp}|{raw body}"` under the account's public key (base64, 32
bytes, Mission Control → Keys & Credentials → Public Key); timestamps more than 300 s away are
refused, as the SDK does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit, urlunsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

Params = Mapping[str, str] | Iterable[tuple[str, str]]
TwilioAlgorithm = Literal["HMAC_SHA1", "HMAC_SHA256"]

TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
TWILIO_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
VONAGE_MAX_AGE_S = 300.0
VONAGE_CLOCK_SKEW_S = 60.0
TELNYX_TOLERANCE_S = 300.0
MAX_TOKEN = 8192  # a Vonage JWT is a few hundred bytes; refuse anything absurd unparsed


def _same(a: str | bytes, b: str | bytes) -> bool:
    left = a.encode() if isinstance(a, str) else a
    right = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(left, right)


# --- Twilio -------------------------------------------------------------------------------


def twilio_algorithm(settings_header: str | None) -> TwilioAlgorithm | None:
    """The hash named by `X-Twilio-Webhooks-Signature-Settings`: HMAC_SHA1 when the header is
    absent (the Auth Token signs), None when it names an algorithm we do not know (refuse the
    request). When the header is present the key is the SharedKey secret, not the Auth Token."""
    if not settings_header or not settings_header.strip():
        return "HMAC_SHA1"
    named = "HMAC_SHA1"
    for part in settings_header.split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip() == "algorithm" and value.strip():
            named = value.strip().upper()
    if named == "HMAC_SHA1":
        return "HMAC_SHA1"
    if named == "HMAC_SHA256":
        return "HMAC_SHA256"
    return None


def _pairs(params: Params) -> list[tuple[str, str]]:
    return list(params.items()) if isinstance(params, Mapping) else list(params)


def twilio_string(url: str, params: Params) -> str:
    """What Twilio signs: the URL, then each name+value, names sorted, a repeated name's
    distinct values sorted (the official validator's rule)."""
    values: dict[str, set[str]] = {}
    for name, value in _pairs(params):
        values.setdefault(name, set()).add(value)
    parts = [url]
    for name in sorted(values):
        parts.extend(name + value for value in sorted(values[name]))
    return "".join(parts)


def _url_variants(url: str) -> set[str]:
    """The URL as given, without its port, and with the scheme's default port added: Twilio's
    validator tries the last two."""
    try:
        split = urlsplit(url)
        port = split.port
    except ValueError:
        return {url}
    host = split.netloc.rsplit("@", 1)[-1]
    userinfo = split.netloc[: len(split.netloc) - len(host)]
    bare = host if port is None else host[: host.rfind(":")]
    default = 443 if split.scheme == "https" else 80
    with_port = host if port is not None else f"{bare}:{default}"
    return {
        url,
        urlunsplit(split._replace(netloc=userinfo + bare)),
        urlunsplit(split._replace(netloc=userinfo + with_port)),
    }


def twilio_valid(
    secret: str,
    url: str,
    params: Params,
    signature: str | None,
    *,
    sha256: bool = False,
    body: bytes | None = None,
) -> bool:
    """Whether `signature` (the X-Twilio-Signature header) signs this request.

    `secret` is the Auth Token, or the SharedKey secret when the request carried
    X-Twilio-Webhooks-Signature-Settings (`sha256` then follows its algorithm). `url` is the
    full public URL Twilio requested, query string included, exactly as configured at Twilio
    (behind a proxy, build it from FIRSTMARK_BASE_URL). `params` are the form fields of a
    POST (none for a GET, whose parameters are in the URL). A URL with `bodySHA256` signs a
    JSON body instead of form fields: pass the raw bytes as `body`.
    """
    if not secret or not signature or len(signature) > 256:
        return False
    query = parse_qs(urlsplit(url).query)
    if "bodySHA256" in query:
        if body is None:
            return False
        if not _same(hashlib.sha256(body).hexdigest(), query["bodySHA256"][0]):
            return False
        params = ()
    digest = hashlib.sha256 if sha256 else hashlib.sha1
    key = secret.encode()
    valid = False
    for candidate in _url_variants(url):
        mac = hmac.new(key, twilio_string(candidate, params).encode(), digest).digest()
        valid |= _same(base64.b64encode(mac), signature.strip())
    return valid


# --- Vonage -------------------------------------------------------------------------------


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def vonage_payload_hashes(body: bytes, query: Iterable[tuple[str, str]] = ()) -> set[str]:
    """The payload hashes that would prove this request untouched: SHA-256 of the raw body,
    of its compact JSON re-serialisation (Vonage's documented recipe), or, for a GET, of the
    query parameters as a compact JSON object in their order."""
    hashes: set[str] = set()
    if body:
        hashes.add(hashlib.sha256(body).hexdigest())
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            parsed = None
        if parsed is not None:
            hashes.add(hashlib.sha256(_compact_json(parsed).encode()).hexdigest())
    else:
        pairs = list(query)
        if pairs:
            hashes.add(hashlib.sha256(_compact_json(dict(pairs)).encode()).hexdigest())
    return hashes


def vonage_valid(
    secret: str,
    authorization: str | None,
    body: bytes,
    now: float,
    max_age: float = VONAGE_MAX_AGE_S,
    *,
    query: Iterable[tuple[str, str]] = (),
) -> bool:
    """Whether the `Authorization` header (or the bare token) is a Vonage signed-webhook JWT
    for this request: HS256 only (`none` and every other algorithm refused), signed with the
    signature secret, `iat` neither older than `max_age` nor in the future beyond a minute's
    clock skew, an `exp` if present not passed, and `payload_hash` matching the payload
    whenever there is one (a POST body, or a GET's query parameters)."""
    if not secret or not authorization or len(authorization) > MAX_TOKEN:
        return False
    token = authorization.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    parts = token.split(".")
    if len(parts) != 3:
        return False
    head_b64, claims_b64, sig_b64 = parts
    try:
        header = json.loads(_b64url(head_b64))
        claims = json.loads(_b64url(claims_b64))
        signature = _b64url(sig_b64)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return False
    if header.get("alg") != "HS256":
        return False
    expected = hmac.new(
        secret.encode(), f"{head_b64}.{claims_b64}".encode(), hashlib.sha256
    ).digest()
    if not _same(expected, signature):
        return False
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        return False
    if iat > now + VONAGE_CLOCK_SKEW_S or now - iat > max_age:
        return False
    exp = claims.get("exp")
    if exp is not None and (isinstance(exp, bool) or not isinstance(exp, int | float)):
        return False
    if exp is not None and now > exp + VONAGE_CLOCK_SKEW_S:
        return False
    hashes = vonage_payload_hashes(body, query)
    if hashes:
        claimed = claims.get("payload_hash")
        if not isinstance(claimed, str):
            return False
        matched = False
        for candidate in hashes:
            matched |= _same(candidate, claimed.lower())
        return matched
    return True


# --- Telnyx -------------------------------------------------------------------------------


def telnyx_valid(
    public_key_b64: str,
    signature_b64: str | None,
    timestamp: str | None,
    body: bytes,
    now: float,
    tolerance: float = TELNYX_TOLERANCE_S,
) -> bool:
    """Whether `telnyx-signature-ed25519` signs `timestamp|body` under the account's public
    key, with `telnyx-timestamp` (Unix seconds) within `tolerance` of `now`."""
    if not public_key_b64 or not signature_b64 or not timestamp:
        return False
    stamp = timestamp.strip()
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
        return False
    if abs(now - int(stamp)) > tolerance:
        return False
    try:
        key_bytes = base64.b64decode(public_key_b64.strip(), validate=True)
        signature = base64.b64decode(signature_b64.strip(), validate=True)
    except (ValueError, binascii.Error):
        return False
    if len(key_bytes) != 32 or len(signature) != 64:
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(key_bytes)
        key.verify(signature, stamp.encode() + b"|" + body)
    except (InvalidSignature, ValueError):
        return False
    return True
