"""The channel grouping: one name for where a visit, click, scan or call came from.

Every report groups by the same function, `channel_of`, so links, scans, calls and site visits
land in the same rows. The defaults follow GA4's default channel definitions where they exist
(the same order and the same medium patterns), with the source lists kept as data in
`domain/sources/*.txt`; an operator's rules run before them, and referrer exclusions (the site's
own hosts, payment and sign-in pages) keep a visit from being credited to the page a buyer came
back from. docs/channels.md describes the grouping; a test checks it against this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from firstmark.errors import InvalidField

DIRECT = "Direct"
ORGANIC_SEARCH = "Organic Search"
PAID_SEARCH = "Paid Search"
ORGANIC_SOCIAL = "Organic Social"
PAID_SOCIAL = "Paid Social"
EMAIL = "Email"
REFERRAL = "Referral"
AI_ASSISTANTS = "AI Assistants"
DISPLAY = "Display"
AFFILIATES = "Affiliates"
VIDEO = "Video"
SMS = "SMS"
PRINT_QR = "Print/QR"
PHONE = "Phone"
OTHER = "Other"
CHANNELS = (
    DIRECT, ORGANIC_SEARCH, PAID_SEARCH, ORGANIC_SOCIAL, PAID_SOCIAL, EMAIL, REFERRAL,
    AI_ASSISTANTS, DISPLAY, AFFILIATES, VIDEO, SMS, PRINT_QR, PHONE, OTHER,
)  # fmt: skip

# What a touch came through: a site visit, a short-link click, a QR scan, a call.
KINDS = ("visit", "click", "scan", "call")
# The source and medium of a touch without any (GA4's spelling).
NO_SOURCE = "(direct)"
NO_MEDIUM = "(none)"

# GA4's medium patterns.
PAID_MEDIUM = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
DISPLAY_MEDIUMS = frozenset({"display", "banner", "expandable", "interstitial", "cpm"})
SOCIAL_MEDIUMS = frozenset(
    {"social", "social-network", "social-media", "sm", "social network", "social media"}
)
EMAIL_WORDS = frozenset({"email", "e-mail", "e_mail", "e mail"})
AFFILIATE_MEDIUMS = frozenset({"affiliate", "affiliates"})
REFERRAL_MEDIUMS = frozenset({"referral", "app", "link"})
PRINT_MEDIUMS = frozenset({"qr", "qrcode", "qr-code", "qr_code", "print", "offline", "flyer",
                           "poster", "direct-mail", "direct_mail"})  # fmt: skip
PHONE_MEDIUMS = frozenset({"phone", "call", "calls"})
# Ad click ids that say which network paid for the click, and the (source, medium) GA4's
# auto-tagging gives them when the landing has no UTM tags.
SEARCH_CLICK_IDS = {
    "gclid": ("google", "cpc"),
    "gbraid": ("google", "cpc"),
    "wbraid": ("google", "cpc"),
    "msclkid": ("bing", "cpc"),
}
SOCIAL_CLICK_IDS = {
    "ttclid": ("tiktok", "paid"),
    "li_fat_id": ("linkedin", "paid"),
    "ScCid": ("snapchat", "paid"),
    "rdt_cid": ("reddit", "paid"),
    "epik": ("pinterest", "paid"),
}
LISTS = ("ai", "search", "social", "video", "email", "excluded")


@cache
def source_list(name: str) -> frozenset[str]:
    """One of the shipped source lists (`domain/sources/<name>.txt`), lower case, comments and
    blank lines dropped."""
    if name not in LISTS:
        raise ValueError(f"no source list {name!r}")
    text = resources.files("firstmark.domain").joinpath("sources", f"{name}.txt").read_text()
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def _labels(host: str) -> list[str]:
    return host.split(".")


@lru_cache(maxsize=4096)
def in_list(name: str, value: str | None) -> bool:
    """Whether a source or referrer host is in a list: an entry with a dot matches the host
    and its subdomains; a bare name matches the value itself, or any label of a host but its
    last (so "google" matches google.com, www.google.co.uk and news.google.com)."""
    if not value:
        return False
    value = value.strip().lower().removeprefix("www.")
    entries = source_list(name)
    if value in entries:
        return True
    if "." not in value:
        return False
    labels = _labels(value)
    for i in range(len(labels) - 1):
        if ".".join(labels[i:]) in entries:
            return True
    return any(label in entries for label in labels[:-1])


# --- operator rules ---------------------------------------------------------------------------

RULE_ACTIONS = ("channel", "exclude")
RULE_FIELDS = ("source", "medium", "campaign", "referrer")
RULE_MATCHES = ("equals", "contains", "ends_with")
MAX_RULE_VALUE = 200


@dataclass(frozen=True, slots=True)
class Rule:
    """An operator's rule. `channel`: a touch whose `field` matches `value` goes to `channel`,
    before the defaults. `exclude`: a referrer host that never takes the credit (`field` is
    "referrer")."""

    action: str
    field: str
    match: str
    value: str
    channel: str | None = None
    id: int | None = None
    created_at: float | None = None

    def matches(self, found: str | None) -> bool:
        if not found:
            return False
        found = found.lower()
        if self.match == "equals":
            return found == self.value
        if self.match == "contains":
            return self.value in found
        return found == self.value or found.endswith("." + self.value.lstrip("."))


def parse_rule(data: object) -> Rule:
    """A rule from `POST /api/v1/channels/rules`, checked field by field."""
    if not isinstance(data, Mapping):
        raise InvalidField("body", "send one JSON object", code="invalid_type")
    unknown = set(data) - {"action", "field", "match", "value", "channel"}
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidField(name, f"unknown field {name!r}", code="unknown_field")
    action = data.get("action", "channel")
    if action not in RULE_ACTIONS:
        raise InvalidField("action", f"action must be one of {', '.join(RULE_ACTIONS)}")
    field = data.get("field", "referrer" if action == "exclude" else None)
    if field not in RULE_FIELDS:
        raise InvalidField("field", f"field must be one of {', '.join(RULE_FIELDS)}")
    if action == "exclude" and field != "referrer":
        raise InvalidField("field", "an exclusion names a referrer host: field must be referrer")
    match = data.get("match", "ends_with" if field == "referrer" else "equals")
    if match not in RULE_MATCHES:
        raise InvalidField("match", f"match must be one of {', '.join(RULE_MATCHES)}")
    value = data.get("value")
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_RULE_VALUE:
        raise InvalidField("value", f"value must be text of 1-{MAX_RULE_VALUE} characters")
    value = value.strip().lower()
    if field == "referrer":
        value = value.removeprefix("https://").removeprefix("http://").split("/")[0]
        value = value.removeprefix("www.")
        if not value:
            raise InvalidField("value", "value must be a host name")
    channel = data.get("channel")
    if action == "channel":
        if channel not in CHANNELS:
            raise InvalidField("channel", f"channel must be one of {', '.join(CHANNELS)}")
    elif channel is not None:
        raise InvalidField("channel", "an exclusion takes no channel")
    return Rule(action, field, match, value, channel)


def rule_to_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "action": rule.action,
        "field": rule.field,
        "match": rule.match,
        "value": rule.value,
        "channel": rule.channel,
    }


def excluded(host: str | None, rules: Iterable[Rule] = (), own_hosts: Iterable[str] = ()) -> bool:
    """Whether a referrer host may not take the credit: the site's own hosts, the shipped
    payment and sign-in list, and the operator's exclusions."""
    if not host:
        return False
    host = host.lower().removeprefix("www.")
    if any(host == h.lower().removeprefix("www.") for h in own_hosts):
        return True
    if any(r.action == "exclude" and r.matches(host) for r in rules):
        return True
    return in_list("excluded", host)


# --- the grouping -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Origin:
    """What the grouping reads of a touch. `source`/`medium` are the UTM tags (or what a visit
    derived from its referrer), `referrer` the referring host, `click_ids` the kinds of ad
    click ids present."""

    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    referrer: str | None = None
    click_ids: tuple[str, ...] = ()
    kind: str = "visit"


def _rule_value(rule: Rule, origin: Origin) -> str | None:
    return {
        "source": origin.source,
        "medium": origin.medium,
        "campaign": origin.campaign,
        "referrer": origin.referrer,
    }[rule.field]


def channel_of(origin: Origin, rules: Sequence[Rule] = ()) -> str:
    """The channel of a touch: the first operator rule that matches, else the defaults."""
    for rule in rules:
        if rule.action == "channel" and rule.matches(_rule_value(rule, origin)):
            assert rule.channel is not None
            return rule.channel
    return default_channel(
        origin.source, origin.medium, origin.campaign, origin.referrer, origin.click_ids,
        origin.kind,
    )  # fmt: skip


@lru_cache(maxsize=8192)
def default_channel(
    source: str | None,
    medium: str | None,
    campaign: str | None = None,
    referrer: str | None = None,
    click_ids: tuple[str, ...] = (),
    kind: str = "visit",
) -> str:
    """The default grouping, GA4's order where GA4 has the channel."""
    if kind == "scan":
        return PRINT_QR
    if kind == "call":
        return PHONE
    src = (source or "").strip().lower()
    if src == NO_SOURCE:
        src = ""
    med = (medium or "").strip().lower()
    if med in (NO_MEDIUM, "(not set)"):
        med = ""
    ref = (referrer or "").strip().lower()
    if not src and not med and not ref and not click_ids:
        return DIRECT
    named = src or ref  # the list lookups read the tag, else the referring host
    if in_list("ai", src) or in_list("ai", ref):
        return AI_ASSISTANTS
    if not src and not click_ids and in_list("email", ref):
        return EMAIL  # webmail (mail.google.com) before the search engine of the same name
    paid = bool(PAID_MEDIUM.match(med))
    search = in_list("search", named)
    social = in_list("social", named)
    video = in_list("video", named)
    if any(c in SEARCH_CLICK_IDS for c in click_ids) and not social and not video:
        return PAID_SEARCH
    if search and paid:
        return PAID_SEARCH
    if (social and paid) or any(c in SOCIAL_CLICK_IDS for c in click_ids):
        return PAID_SOCIAL
    if video and paid:
        return VIDEO
    if med in DISPLAY_MEDIUMS:
        return DISPLAY
    if paid:
        return OTHER  # GA4's "Paid Other"
    if social or med in SOCIAL_MEDIUMS:
        return ORGANIC_SOCIAL
    if video or "video" in med:
        return VIDEO
    if search or med == "organic":
        return ORGANIC_SEARCH
    if src in EMAIL_WORDS or med in EMAIL_WORDS or in_list("email", ref):
        return EMAIL
    if med in AFFILIATE_MEDIUMS:
        return AFFILIATES
    if src == "sms" or med == "sms":
        return SMS
    if med in PRINT_MEDIUMS:
        return PRINT_QR
    if med in PHONE_MEDIUMS:
        return PHONE
    if med in REFERRAL_MEDIUMS or (ref and not src and not med):
        return REFERRAL
    if "fbclid" in click_ids:
        return ORGANIC_SOCIAL  # Meta tags every outbound link, paid or not
    return OTHER


def source_medium(
    utm_source: str | None,
    utm_medium: str | None,
    referrer: str | None,
    click_ids: Iterable[str] = (),
) -> tuple[str, str]:
    """A visit's (source, medium): its UTM tags, else what an ad click id implies (GA4's
    auto-tagging), else the referring host ("organic" from a search engine, "referral"
    otherwise), else "(direct)" / "(none)"."""
    if utm_source:
        return utm_source, utm_medium or NO_MEDIUM
    kinds = set(click_ids)
    for found in (SEARCH_CLICK_IDS, SOCIAL_CLICK_IDS):
        for name, pair in found.items():
            if name in kinds:
                return pair
    if referrer:
        if in_list("search", referrer) and not in_list("ai", referrer):
            return referrer, "organic"
        return referrer, "referral"
    return NO_SOURCE, utm_medium or NO_MEDIUM
