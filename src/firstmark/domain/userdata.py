"""User data on conversions: normalised, then SHA-256 hashed on receipt. Clear values end here.

Normalisation follows the platforms' published rules (Meta's Conversions API customer
information parameters; Google's formatting guide for the variants it wants differently), so
the stored hashes can be forwarded as they are. A value that already is a 64-hex SHA-256
passes through.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping

from firstmark.errors import InvalidField

FIELDS = (
    "email", "phone", "first_name", "last_name", "city", "region", "postal_code", "country",
    "external_id",
)  # fmt: skip
# Stored keys are the short names the platforms use.
KEYS = {
    "email": "em", "phone": "ph", "first_name": "fn", "last_name": "ln", "city": "ct",
    "region": "st", "postal_code": "zp", "country": "country", "external_id": "external_id",
}  # fmt: skip
MAX_LENGTH = 256
_HEX64 = re.compile(r"[0-9a-f]{64}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_US_ZIP4 = re.compile(r"\d{5}-\d{4}")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalise_email(value: str) -> str:
    email = value.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise InvalidField("user_data.email", "user_data.email is not an email address")
    return email


def google_email(email: str) -> str:
    """Google's variant: for gmail.com and googlemail.com, no dots and no +suffix."""
    local, _, domain = email.partition("@")
    if domain in ("gmail.com", "googlemail.com"):
        local = local.split("+", 1)[0].replace(".", "")
    return f"{local}@{domain}"


def canonical_email(email: str) -> str:
    """Reddit's variant: for every domain, no dots and no +suffix in the local part."""
    local, _, domain = email.partition("@")
    return f"{local.split('+', 1)[0].replace('.', '')}@{domain}"


def normalise_phone(value: str) -> str:
    """Digits with the country code, no '+' or leading zeros (E.164 without the plus)."""
    text = value.strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("00"):
        digits = digits[2:]
    if not text.startswith(("+", "00")) or not 7 <= len(digits) <= 15:
        raise InvalidField(
            "user_data.phone", "user_data.phone must be international, like +47 912 34 567"
        )
    return digits


def _letters(value: str) -> str:
    """Lower case, accents kept (UTF-8), no spaces or punctuation: Meta's name/city rule."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFC", value).lower())


def normalise(field: str, value: str) -> str:
    if field == "email":
        return normalise_email(value)
    if field == "phone":
        return normalise_phone(value)
    if field in ("first_name", "last_name", "city", "region"):
        return _letters(value)
    if field == "postal_code":
        code = re.sub(r"\s", "", value.strip().lower())
        if _US_ZIP4.fullmatch(code):  # Meta: only the first 5 digits of a US ZIP+4
            return code[:5]
        return code.replace("-", "")
    if field == "country":
        code = value.strip().lower()
        if not re.fullmatch(r"[a-z]{2}", code):
            raise InvalidField("user_data.country", "user_data.country must be a 2-letter code")
        return code
    return value.strip()


def hash_user_data(value: object) -> dict[str, str]:
    """{'email': 'A@B.com', ...} → {'em': sha256('a@b.com'), ...}. Also 'em_google' and
    'ph_e164' (with '+') where Google's rule gives a different value, 'em_canonical' where
    Reddit's does, and 'zp_digits' when the postcode is digits only (Pinterest takes no
    other)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidField("user_data", "user_data must be an object", code="invalid_type")
    out: dict[str, str] = {}
    for field, raw in value.items():
        name = f"user_data.{field}"
        if field not in KEYS:
            raise InvalidField(name, f"unknown user_data field {field!r}", code="unknown_field")
        if raw is None:
            continue
        if not isinstance(raw, str):
            raise InvalidField(name, f"{name} must be a string", code="invalid_type")
        if len(raw) > MAX_LENGTH:
            raise InvalidField(name, f"{name} is longer than {MAX_LENGTH} characters")
        if _HEX64.fullmatch(raw.strip().lower()):
            out[KEYS[field]] = raw.strip().lower()
            continue
        if not raw.strip():
            continue
        clean = normalise(field, raw)
        out[KEYS[field]] = sha256(clean)
        if field == "email" and google_email(clean) != clean:
            out["em_google"] = sha256(google_email(clean))
        if field == "email" and canonical_email(clean) != clean:
            out["em_canonical"] = sha256(canonical_email(clean))
        if field == "phone":
            out["ph_e164"] = sha256("+" + clean)
        if field == "postal_code" and clean.isdigit():
            out["zp_digits"] = out[KEYS[field]]
    return out
