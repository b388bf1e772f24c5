"""A/B destinations: a link that splits its clicks between 2 to 5 weighted destinations.

Variant 0 is the control and is always the link's own destination (as in Dub's test variants,
where the link's URL is the first); the others are the challengers. A click's variant is a
weighted pick from a hash of the daily visitor hash and the link id, so one visitor keeps one
variant all day on every node, without a cookie. The pick is a few integer operations against
cumulative bounds computed once, when the link is compiled for the cache.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from firstmark.domain.urls import validate_destination
from firstmark.errors import InvalidField

MIN_VARIANTS = 2
MAX_VARIANTS = 5
MAX_WEIGHT = 1_000_000
SPAN = 1 << 32  # the bounds split [0, 2**32)
_MASK = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class Variant:
    url: str
    weight: float


def parse_variants(
    value: object, *, allowed_hosts: Collection[str] = (), field: str = "variants"
) -> tuple[Variant, ...]:
    """2 to 5 `{"url", "weight"}` objects; null or [] ends a split (gives ())."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidField(field, "variants must be a list of {url, weight}", code="invalid_type")
    if not value:
        return ()
    if not MIN_VARIANTS <= len(value) <= MAX_VARIANTS:
        raise InvalidField(field, f"a split needs {MIN_VARIANTS} to {MAX_VARIANTS} variants")
    out: list[Variant] = []
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(item, dict):
            raise InvalidField(
                where, "each variant is an object {url, weight}", code="invalid_type"
            )
        unknown = set(item) - {"url", "weight"}
        if unknown:
            raise InvalidField(f"{where}.{min(unknown)}", "unknown field", code="unknown_field")
        if item.get("url") is None:
            raise InvalidField(f"{where}.url", "url is required", code="required")
        url = validate_destination(item["url"], f"{where}.url", allowed_hosts=allowed_hosts)
        out.append(Variant(url, _weight(item.get("weight", 1), f"{where}.weight")))
    return tuple(out)


def _weight(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidField(field, "weight must be a number", code="invalid_type")
    if not math.isfinite(value) or not 0 < value <= MAX_WEIGHT:
        raise InvalidField(field, f"weight must be above 0 and at most {MAX_WEIGHT}")
    return int(value) if float(value).is_integer() else float(value)


def variant_spec(text: str) -> dict[str, Any]:
    """'URL=WEIGHT' (the CLI's --variant, a line of the dashboard's editor) as the JSON
    object: the weight follows the last '=', so the URL may hold '=' itself."""
    url, _, weight = text.strip().rpartition("=")
    try:
        number = float(weight)
    except ValueError:
        number = 0.0
    if not url or not number:
        raise InvalidField("variants", f"a variant is written URL=WEIGHT, not {text.strip()!r}")
    return {"url": url, "weight": int(number) if number.is_integer() else number}


def variant_line(variant: Variant) -> str:
    return f"{variant.url}={variant.weight:g}"


def variants_to_json(variants: Sequence[Variant]) -> list[dict[str, Any]]:
    return [{"url": v.url, "weight": v.weight} for v in variants]


def bounds(weights: Sequence[float]) -> tuple[int, ...]:
    """Cumulative upper bounds in [0, 2**32) for the weights; the last is always 2**32."""
    total = float(sum(weights))
    out: list[int] = []
    running = 0.0
    for weight in weights:
        running += weight
        out.append(round(SPAN * running / total))
    out[-1] = SPAN
    return tuple(out)


def visitor_key(day_hash: str) -> int:
    """The daily visitor hash (hex) as the integer picks are made from."""
    return int(day_hash[:16], 16)


def pick(key: int, link_id: int, cumulative: Sequence[int]) -> int:
    """The variant of a visitor (`key`) on a link: the same pair always gives the same one,
    and different visitors spread as the weights say. The link id is mixed in (splitmix64's
    finaliser) so a visitor's variants on two links are independent."""
    x = (key ^ (link_id * 0x9E3779B97F4A7C15)) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    point = (x ^ (x >> 31)) >> 32
    for index, bound in enumerate(cumulative):
        if point < bound:
            return index
    return len(cumulative) - 1
