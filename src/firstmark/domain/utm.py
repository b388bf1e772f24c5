"""UTM values: one spelling per source and medium, so reports do not split one channel in two.

Analytics tools group by the exact string: "LinkedIn", "linkedin" and "linked-in" are three sources
and "e-mail" lands outside the Email channel. Values are normalised on save, and what is left over
(near-duplicates, media no channel grouping knows) is reported as warnings, never as errors: the
user may have a reason, and a link must never fail to save over a tag.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

UTM_FIELDS: tuple[str, ...] = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "utm_id",
)

_SQUASH = str.maketrans("", "", "-_. ")
_MAX_DISTANCE = 2
_MIN_FUZZY_LENGTH = 5


def normalise_utm(value: str) -> str:
    """Trim, lower-case and join inner runs of whitespace with '-'."""
    return "-".join(value.split()).lower()


@dataclass(frozen=True)
class Taxonomy:
    """The sources and mediums a team agreed to use."""

    sources: frozenset[str]
    mediums: frozenset[str]


DEFAULT_TAXONOMY = Taxonomy(
    sources=frozenset(
        {
            "baidu",
            "bing",
            "bluesky",
            "chatgpt",
            "discord",
            "duckduckgo",
            "ecosia",
            "email",
            "facebook",
            "github",
            "google",
            "instagram",
            "linkedin",
            "mastodon",
            "messenger",
            "newsletter",
            "pinterest",
            "quora",
            "reddit",
            "snapchat",
            "telegram",
            "threads",
            "tiktok",
            "twitch",
            "twitter",
            "whatsapp",
            "x",
            "yahoo",
            "yandex",
            "youtube",
        }
    ),
    # What GA4's default channel grouping recognises (so traffic is not "Unassigned"), plus the
    # offline placements a QR code is printed for.
    mediums=frozenset(
        {
            "affiliate",
            "app",
            "audio",
            "banner",
            "cpa",
            "cpc",
            "cpm",
            "cpv",
            "cross-network",
            "display",
            "email",
            "event",
            "expandable",
            "interstitial",
            "link",
            "mobile-push",
            "notification",
            "offline",
            "organic",
            "paid",
            "paid-search",
            "paid-social",
            "ppc",
            "print",
            "push",
            "qr",
            "referral",
            "retargeting",
            "sm",
            "sms",
            "social",
            "social-media",
            "social-network",
            "video",
        }
    ),
)


def taxonomy(sources: Iterable[str] = (), mediums: Iterable[str] = ()) -> Taxonomy:
    """Build a taxonomy; a configured list replaces the default one, an empty one keeps it."""
    configured_sources = _normalised_set(sources)
    configured_mediums = _normalised_set(mediums)
    return Taxonomy(
        sources=configured_sources or DEFAULT_TAXONOMY.sources,
        mediums=configured_mediums or DEFAULT_TAXONOMY.mediums,
    )


@dataclass(frozen=True)
class UtmWarning:
    """Something about a UTM value worth a second look. `value` is the value as stored."""

    field: str
    value: str
    suggestion: str | None
    message: str

    def to_json(self) -> dict[str, str | None]:
        return {
            "field": self.field,
            "value": self.value,
            "suggestion": self.suggestion,
            "message": self.message,
        }


def taxonomy_warnings(
    fields: Mapping[str, str],
    known: Taxonomy,
    in_use: Mapping[str, Iterable[str]] | None = None,
) -> list[UtmWarning]:
    """Warnings for the UTM values of one link, as typed by the user, in `UTM_FIELDS` order.

    `in_use` holds the values other links already use, by field name: matching them keeps one
    spelling across links even for campaigns, which no taxonomy can list.
    """
    warnings: list[UtmWarning] = []
    for field in UTM_FIELDS:
        raw = fields.get(field)
        if raw is None:
            continue
        value = normalise_utm(raw)
        if not value:
            continue
        # Trimming alone is not worth a word: a stray space is never meant.
        if value != raw.strip():
            warnings.append(UtmWarning(field, value, None, f"{raw!r} was stored as {value!r}"))

        agreed: frozenset[str] = frozenset()
        if field == "utm_source":
            agreed = known.sources
        elif field == "utm_medium":
            agreed = known.mediums
        used = _normalised_set(in_use.get(field, ()) if in_use is not None else ())
        if value in agreed or value in used:
            if field == "utm_medium" and value not in agreed:
                warnings.append(_unknown_medium(value))
            continue

        suggestion = _closest(value, agreed | used)
        if suggestion is not None:
            if suggestion in agreed:
                message = f"{value!r} looks like the known {field[4:]} {suggestion!r}"
            else:
                message = f"{value!r} looks like {suggestion!r}, already used on other links"
            warnings.append(UtmWarning(field, value, suggestion, message))
        elif field == "utm_medium":
            warnings.append(_unknown_medium(value))
    return warnings


def _unknown_medium(value: str) -> UtmWarning:
    return UtmWarning(
        "utm_medium",
        value,
        None,
        f"{value!r} is not a known medium; analytics tools may not assign it to a channel",
    )


def _normalised_set(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v for v in map(normalise_utm, values) if v)


def _closest(value: str, candidates: Iterable[str]) -> str | None:
    """The nearest candidate within reach, ties broken alphabetically; None when none is near."""
    squashed = value.translate(_SQUASH)
    if not squashed:
        return None
    fuzzy = len(value) >= _MIN_FUZZY_LENGTH
    best: tuple[int, str] | None = None
    for candidate in sorted(candidates):
        other = candidate.translate(_SQUASH)
        if other == squashed:
            distance = 0
        elif fuzzy:
            distance = _distance(squashed, other, _MAX_DISTANCE)
            if distance > _MAX_DISTANCE:
                continue
        else:
            continue
        if best is None or distance < best[0]:
            best = (distance, candidate)
    return None if best is None else best[1]


def _distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (optimal string alignment); `limit + 1` once it is beyond."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                best = min(best, before[j - 2] + 1)
            current[j] = best
        before, previous = previous, current
    return min(previous[-1], limit + 1)
