"""Ordered redirect rules: the first rule whose conditions all hold picks the destination.

A rule in JSON: {"device": ["mobile"], "os": ["ios"], "country": ["NO", "SE"], "language": ["nb"],
"query": {"ref": "print"}, "from": "...", "until": "...", "destination": "https://..."}.
Every condition is optional; a list means "any of".
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from firstmark.domain.times import iso, parse_time
from firstmark.domain.urls import validate_destination
from firstmark.errors import InvalidField

MAX_RULES = 50
DEVICE_TYPES = frozenset({"desktop", "mobile", "tablet", "tv", "console", "other"})
RULE_KEYS = frozenset(
    {"device", "os", "country", "language", "query", "from", "until", "destination"}
)


@dataclass(frozen=True, slots=True)
class Rule:
    destination: str
    device: tuple[str, ...] = ()
    os: tuple[str, ...] = ()
    country: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    query: tuple[tuple[str, str | None], ...] = ()
    start: datetime | None = None
    until: datetime | None = None

    @property
    def needs_device(self) -> bool:
        return bool(self.device or self.os)


@dataclass(frozen=True, slots=True)
class Visit:
    """What a rule may look at: facts about one request, derived and never stored as such."""

    now: datetime
    device_type: str = "other"
    os: str = ""
    country: str | None = None
    languages: tuple[str, ...] = ()
    query: Mapping[str, str] | None = None


def matches(rule: Rule, visit: Visit) -> bool:
    if rule.start is not None and visit.now < rule.start:
        return False
    if rule.until is not None and visit.now >= rule.until:
        return False
    if rule.device and visit.device_type not in rule.device:
        return False
    if rule.os and visit.os.lower() not in rule.os:
        return False
    if rule.country and (visit.country or "") not in rule.country:
        return False
    if rule.language and not any(
        lang == want or lang.startswith(want + "-")
        for lang in visit.languages
        for want in rule.language
    ):
        return False
    if rule.query:
        params = visit.query or {}
        for name, value in rule.query:
            if name not in params or (value is not None and params[name] != value):
                return False
    return True


def pick(rules: tuple[Rule, ...], visit: Visit) -> Rule | None:
    for rule in rules:
        if matches(rule, visit):
            return rule
    return None


def parse_languages(header: str) -> tuple[str, ...]:
    """Language tags of an Accept-Language header, best first, lower case ('nb-no', 'en')."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag or tag == "*" or len(tag) > 35:
            continue
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                weight = 0.0
        if weight > 0:
            ranked.append((-weight, index, tag))
    return tuple(tag for _, _, tag in sorted(ranked))


# --- reading rules from JSON ----------------------------------------------------------------


def _strings(field: str, value: object, *, upper: bool = False) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise InvalidField(field, "must be a string or a non-empty list of strings")
    out = tuple(v.strip().upper() if upper else v.strip().lower() for v in items)
    if any(not v or len(v) > 64 for v in out):
        raise InvalidField(field, "values must be 1 to 64 characters")
    return out


def _rule(index: int, data: object, allowed_hosts: Collection[str]) -> Rule:
    where = f"rules[{index}]"
    if not isinstance(data, Mapping):
        raise InvalidField(where, "each rule must be an object", code="invalid_type")
    unknown = set(data) - RULE_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise InvalidField(
            f"{where}.{key}", f"unknown rule condition {key!r}", code="unknown_field"
        )
    if "destination" not in data:
        raise InvalidField(f"{where}.destination", "a rule needs a destination", code="required")
    destination = validate_destination(
        data["destination"], f"{where}.destination", allowed_hosts=allowed_hosts
    )
    fields: dict[str, Any] = {}
    if "device" in data:
        fields["device"] = _strings(f"{where}.device", data["device"])
        bad = [d for d in fields["device"] if d not in DEVICE_TYPES]
        if bad:
            raise InvalidField(
                f"{where}.device",
                f"unknown device {bad[0]!r}; use {', '.join(sorted(DEVICE_TYPES))}",
            )
    if "os" in data:
        fields["os"] = _strings(f"{where}.os", data["os"])
    if "country" in data:
        fields["country"] = _strings(f"{where}.country", data["country"], upper=True)
        if any(len(c) != 2 or not c.isalpha() for c in fields["country"]):
            raise InvalidField(f"{where}.country", "countries are ISO 3166 two-letter codes")
    if "language" in data:
        fields["language"] = _strings(f"{where}.language", data["language"])
    if "query" in data:
        query = data["query"]
        if (
            not isinstance(query, Mapping)
            or not query
            or not all(
                isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in query.items()
            )
        ):
            raise InvalidField(
                f"{where}.query", "query must be an object of parameter names to string or null"
            )
        fields["query"] = tuple(sorted(query.items()))
    for key, attr in (("from", "start"), ("until", "until")):
        if key in data and data[key] is not None:
            fields[attr] = parse_time(f"{where}.{key}", data[key])
    if len(fields) == 0:
        raise InvalidField(where, "a rule needs at least one condition", code="required")
    rule = Rule(destination=destination, **fields)
    if rule.start and rule.until and rule.until <= rule.start:
        raise InvalidField(f"{where}.until", "until must be later than from")
    return rule


def parse_rules(value: object, *, allowed_hosts: Collection[str] = ()) -> tuple[Rule, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidField("rules", "rules must be a list", code="invalid_type")
    if len(value) > MAX_RULES:
        raise InvalidField("rules", f"at most {MAX_RULES} rules per link")
    return tuple(_rule(i, item, allowed_hosts) for i, item in enumerate(value))


def rules_to_json(rules: tuple[Rule, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rule in rules:
        item: dict[str, Any] = {}
        for attr in ("device", "os", "country", "language"):
            if getattr(rule, attr):
                item[attr] = list(getattr(rule, attr))
        if rule.query:
            item["query"] = dict(rule.query)
        if rule.start:
            item["from"] = iso(rule.start)
        if rule.until:
            item["until"] = iso(rule.until)
        item["destination"] = rule.destination
        out.append(item)
    return out
