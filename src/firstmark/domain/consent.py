"""Consent, decided on the server from what the page, the backend and the browser say.

The page speaks Consent Mode v2 (`analytics_storage`, `ad_storage`, `ad_user_data`,
`ad_personalization`: 'granted' or 'denied') and may pass an IAB TCF v2.2 string; the browser
may send Global Privacy Control (`Sec-GPC: 1`, or `navigator.globalPrivacyControl` relayed by
the script). GPC wins over everything the page says: no identifiers, nothing forwarded.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

from firstmark.errors import InvalidField

MODE_NAMES = ("analytics_storage", "ad_storage", "ad_user_data", "ad_personalization")
# Consent Mode also names these; they change nothing here, but a CMP may send them.
OTHER_MODE_NAMES = ("functionality_storage", "personalization_storage", "security_storage")
# Options of gtag's consent command that a CMP may pass along with the states.
MODE_OPTIONS = ("wait_for_update", "region")
BACKEND_NAMES = ("ad_user_data", "ad_personalization", "analytics_storage")
STATES = ("granted", "denied")

# TCF v2.2 core string: bit offset of PurposesConsent (purpose 1 is the first bit).
_TCF_PURPOSES_AT = 152
_TCF_MEASUREMENT = (7, 9, 10)


@dataclass(frozen=True, slots=True)
class Consent:
    """What may be kept and passed on for one event or conversion."""

    analytics: bool = False
    ad_storage: bool = False
    ad_user_data: bool = False
    ad_personalization: bool = False
    gpc: bool = False
    tcf: bool = False  # an IAB TCF string took part in the decision (events only)

    @property
    def identifiers(self) -> bool:
        """A visitor id, session id, click token and touches may be stored."""
        return self.analytics and not self.gpc

    @property
    def click_ids(self) -> bool:
        """Platform click ids (gclid, fbclid, ...) may be stored."""
        return (self.ad_storage or self.ad_user_data) and not self.gpc

    @property
    def forwarding(self) -> bool:
        """A conversion may go to ad platforms, with hashed user data."""
        return self.ad_user_data and not self.gpc

    @property
    def label(self) -> str:
        """One short word for an event row: gpc, none, analytics, ads or full."""
        if self.gpc:
            return "gpc"
        ads = self.ad_storage or self.ad_user_data
        return {(False, False): "none", (True, False): "analytics", (False, True): "ads"}.get(
            (self.analytics, ads), "full"
        )

    @property
    def recorded(self) -> str:
        """What an event row keeps: the label, and `:tcf` when a TCF string decided it, so
        the Privacy page can show how much consent came through TCF."""
        return f"{self.label}:tcf" if self.tcf else self.label

    def to_json(self) -> dict[str, object]:
        def state(flag: bool) -> str:
            return "granted" if flag else "denied"

        return {
            "analytics_storage": state(self.analytics),
            "ad_storage": state(self.ad_storage),
            "ad_user_data": state(self.ad_user_data),
            "ad_personalization": state(self.ad_personalization),
            "gpc": self.gpc,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Consent:
        return cls(
            analytics=data.get("analytics_storage") == "granted",
            ad_storage=data.get("ad_storage") == "granted",
            ad_user_data=data.get("ad_user_data") == "granted",
            ad_personalization=data.get("ad_personalization") == "granted",
            gpc=data.get("gpc") is True,
        )


def _states(value: object, field: str, names: tuple[str, ...]) -> dict[str, bool]:
    """{'analytics_storage': 'granted', ...} → {'analytics_storage': True}; booleans accepted."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidField(field, f"{field} must be an object", code="invalid_type")
    out: dict[str, bool] = {}
    for name, raw in value.items():
        if (name in OTHER_MODE_NAMES or name in MODE_OPTIONS) and name not in names:
            continue
        if name not in names:
            raise InvalidField(
                f"{field}.{name}", f"unknown consent name {name!r}", code="unknown_field"
            )
        if isinstance(raw, bool):
            out[name] = raw
        elif raw in STATES:
            out[name] = raw == "granted"
        else:
            raise InvalidField(f"{field}.{name}", f"{field}.{name} must be granted or denied")
    return out


def tcf_purposes(tc_string: str) -> frozenset[int] | None:
    """Purposes with consent in a TCF v2 core string, or None when it cannot be read."""
    core = tc_string.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(core + "=" * (-len(core) % 4))
    except (ValueError, TypeError):
        return None
    bits = "".join(f"{byte:08b}" for byte in raw)
    if len(bits) < _TCF_PURPOSES_AT + 24 or int(bits[:6], 2) != 2:
        return None
    field = bits[_TCF_PURPOSES_AT : _TCF_PURPOSES_AT + 24]
    return frozenset(i + 1 for i, bit in enumerate(field) if bit == "1")


def tcf_analytics(tc_string: str) -> bool | None:
    """Analytics per TCF: purpose 1 (store/access on a device) and a measurement purpose
    (7, 9 or 10). None when the string is unreadable."""
    purposes = tcf_purposes(tc_string)
    if purposes is None:
        return None
    return 1 in purposes and any(p in purposes for p in _TCF_MEASUREMENT)


def from_page(value: object, *, tcf: object = None, gpc: bool = False) -> Consent:
    """The consent of an event sent by the script. Every source that speaks must grant:
    Consent Mode `analytics_storage` and, when given, the TCF string."""
    states = _states(value, "consent", MODE_NAMES)
    analytics = states.get("analytics_storage", False)
    if tcf is not None:
        if not isinstance(tcf, str) or len(tcf) > 4096:
            raise InvalidField("tcf", "tcf must be a TCF v2 consent string", code="invalid_type")
        per_tcf = tcf_analytics(tcf)
        if per_tcf is None:
            raise InvalidField("tcf", "tcf is not a readable TCF v2 consent string")
        analytics = per_tcf if "analytics_storage" not in states else analytics and per_tcf
    if gpc:
        return Consent(gpc=True)
    return Consent(
        analytics=analytics,
        ad_storage=states.get("ad_storage", False),
        ad_user_data=states.get("ad_user_data", False),
        ad_personalization=states.get("ad_personalization", False),
        tcf=tcf is not None,
    )


def from_backend(value: object, *, gpc: bool = False) -> Consent:
    """The `consent` object of a server-side conversion; anything unsaid is denied."""
    states = _states(value, "consent", BACKEND_NAMES)
    if gpc:
        return Consent(gpc=True)
    return Consent(
        analytics=states.get("analytics_storage", False),
        ad_user_data=states.get("ad_user_data", False),
        ad_personalization=states.get("ad_personalization", False),
    )
