"""User data per platform: SHA-256 hex of each platform's normalisation.

Clear values never reach the outbox: `domain/userdata.py` normalises and hashes them on
receipt, with Meta's rules (`em`, `ph`, `fn`, …) plus Google's variants where they differ
(`em_google`: gmail.com/googlemail.com without dots and `+suffix`; `ph_e164`: E.164 with the
`+`). This module holds the per-platform rules on top of that: which stored hash a platform
gets under which name, and `hash_value` for hashing a clear value the way a platform wants
(the same functions, so the two can never drift apart). A value that already is a 64-hex
SHA-256 passes through untouched.

Phone numbers: Meta, Pinterest and Snapchat hash the digits with the country code and no `+`;
Google (Data Manager, GA4), TikTok, Microsoft and Reddit hash E.164 with the `+`. Reddit's
email drops dots and `+suffix` for every domain (`em_canonical`); Pinterest takes digit-only
postcodes (`zp_digits`), none otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from firstmark.domain.userdata import (
    canonical_email,
    google_email,
    normalise,
    normalise_email,
    sha256,
)

HEX64 = re.compile(r"[0-9a-f]{64}")
GOOGLE = ("google_ads", "ga4")
E164_PLUS = ("google_ads", "ga4", "tiktok", "microsoft", "reddit")
CANONICAL_EMAIL = ("reddit",)  # dots and +suffix dropped for every domain
DIGIT_POSTCODES = ("pinterest",)  # postcodes of digits only, or none


def is_hashed(value: str) -> bool:
    return HEX64.fullmatch(value.strip().lower()) is not None


def normalised(platform: str, field: str, value: str) -> str:
    """The text a platform hashes for a clear value of one user_data field (email, phone,
    first_name, …)."""
    if field == "email" and platform in GOOGLE:
        return google_email(normalise_email(value))
    if field == "email" and platform in CANONICAL_EMAIL:
        return canonical_email(normalise_email(value))
    if field == "phone" and platform in E164_PLUS:
        return "+" + normalise(field, value)
    return normalise(field, value)


def hash_value(platform: str, field: str, value: str) -> str:
    """SHA-256 hex of the platform's normalisation; an existing hash passes through."""
    if is_hashed(value):
        return value.strip().lower()
    return sha256(normalised(platform, field, value))


def email(platform: str, user_data: Mapping[str, str]) -> str | None:
    """The stored email hash this platform wants."""
    if platform in GOOGLE:
        return user_data.get("em_google") or user_data.get("em")
    if platform in CANONICAL_EMAIL:
        return user_data.get("em_canonical") or user_data.get("em")
    return user_data.get("em")


def phone(platform: str, user_data: Mapping[str, str]) -> str | None:
    """The stored phone hash this platform wants. A phone given already hashed has no E.164
    variant; it is sent as given."""
    if platform in E164_PLUS:
        return user_data.get("ph_e164") or user_data.get("ph")
    return user_data.get("ph")


def meta_style(platform: str, user_data: Mapping[str, str]) -> dict[str, list[str]]:
    """Meta's `user_data` keys (also Pinterest's and Snapchat's), each a list of hashes."""
    out: dict[str, list[str]] = {}
    for key in ("em", "ph", "fn", "ln", "ct", "st", "zp", "country", "external_id"):
        value = (
            email(platform, user_data)
            if key == "em"
            else phone(platform, user_data)
            if key == "ph"
            else user_data.get("zp_digits")
            if key == "zp" and platform in DIGIT_POSTCODES
            else user_data.get(key)
        )
        if value:
            out[key] = [value]
    return out
