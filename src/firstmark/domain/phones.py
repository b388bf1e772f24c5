"""Phone numbers: E.164 parsing, and the only two things ever kept of a caller's number.

A caller's number is never stored. What is kept is a keyed hash (HMAC-SHA256 with a key
derived from the server secret, so the small space of phone numbers cannot be enumerated
against it) and its last two digits, enough to tell repeat callers apart and to recognise a
call in the log.
"""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers

from firstmark.errors import InvalidField

MAX_INPUT = 40


def parse_e164(value: object, field: str, region: str | None = None) -> str:
    """A phone number as E.164 (`+4791234567`). National formats need `region` (ISO 3166
    alpha-2, e.g. "GB"); a number that cannot be dialled is refused."""
    if not isinstance(value, str):
        raise InvalidField(
            field, f"{field} must be a phone number as a string", code="invalid_type"
        )
    text = value.strip()
    if not text or len(text) > MAX_INPUT:
        raise InvalidField(field, f"{field} must be a phone number like +14155550123")
    if not text.startswith("+") and not region:
        raise InvalidField(
            field,
            f"{field} must be international (+ and country code), or give a default region",
        )
    try:
        parsed = phonenumbers.parse(text, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        raise InvalidField(field, f"{field} is not a phone number: like +14155550123") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidField(field, f"{field} is not a valid number for its country")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def loose_e164(value: str) -> str | None:
    """A number as a provider sends it (`+1415…`, `1415…` from Vonage, `sip:…`), in E.164;
    None when it is not a phone number (anonymous and SIP callers)."""
    text = value.strip()
    if not text:
        return None
    if not text.startswith("+"):
        text = "+" + text
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """International format for people: `+1 415-555-0123`."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def caller_hash(key: bytes, e164: str) -> str:
    """The caller's keyed hash (hex): stable for one server, useless without its secret."""
    return hmac.new(key, e164.encode(), hashlib.sha256).hexdigest()


def last_two(e164: str) -> str:
    return e164[-2:]


def hash_key(secret: str) -> bytes:
    """The caller-hash key, derived from the server secret for this one purpose."""
    return hashlib.sha256(b"firstmark caller hash\x00" + secret.encode()).digest()
