"""Which identifiers a platform needs to match a conversion at all, for conversions that may
have none: a call has the caller's hashed number (under ads consent) and the click ids of the
session that showed the number, nothing else. A call conversion with none of what its
platform takes is skipped with the reason, never sent with empty user data (LinkedIn, for
one, refuses an event without an accepted id and matches no phone numbers).

Names are user_data keys (`em`, `ph`, `external_id`) and click ids (domain/events.CLICK_IDS).
"""

from __future__ import annotations

from collections.abc import Mapping

from firstmark.domain.conversions import Conversion

NEEDS: dict[str, tuple[str, ...]] = {
    "meta": ("em", "ph", "external_id", "fbclid", "fbc"),
    "google_ads": ("gclid", "gbraid", "wbraid", "em", "ph"),
    "tiktok": ("ttclid", "em", "ph", "external_id"),
    "linkedin": ("li_fat_id", "em"),
    "microsoft": ("msclkid", "em", "ph"),
    "pinterest": ("epik", "em", "ph", "external_id"),
    "snapchat": ("ScCid", "em", "ph"),
    "reddit": ("rdt_cid", "em", "ph", "external_id"),
}
CHECKED_SOURCES = frozenset({"call"})
# Platform variants of one identifier, by the name it is known by.
ALIASES = {"ph_e164": "ph", "em_google": "em", "em_canonical": "em", "zp_digits": "zp"}


def present(conversion: Conversion, click_ids: Mapping[str, str]) -> set[str]:
    """The identifier names a conversion carries (names only, never values)."""
    names = {k for k, v in click_ids.items() if v}
    for key, value in conversion.user_data.items():
        if value:
            names.add(ALIASES.get(key, key))
    return names


def missing(platform: str, conversion: Conversion, click_ids: Mapping[str, str]) -> str | None:
    """Why this conversion cannot go to the platform, or None."""
    needs = NEEDS.get(platform)
    if needs is None or conversion.source not in CHECKED_SOURCES:
        return None
    if present(conversion, click_ids) & set(needs):
        return None
    return (
        f"skipped: {platform} needs one of {', '.join(needs)} and this "
        f"{conversion.source} conversion has none"
    )
