"""Privacy as data: what links to what (erasure and access), and what each consent state stores.

Erasure and export start from one identifier a person gives (a visitor id, a click token, a
conversion's event id or order id, an e-mail address or a phone number) and follow the links
below until nothing new turns up. E-mail and phone arrive in clear and are hashed here with
every normalisation a platform uses, exactly as conversions hash them on receipt; the clear
value goes no further.

`FINDS` says where each kind of value sits and what else a matching row leads to; `ACTIONS`
says what erasure does to a linked row of each table: delete it, or keep it for the reports
with its identifiers cleared or replaced by random values nobody keeps (pseudonyms of
sessions and daily hashes are replaced consistently, so visit, unique and funnel counts stay
the same). Rollups hold no identifier and stay. The store runs both maps as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from firstmark.domain.consent import Consent
from firstmark.domain.phones import caller_hash
from firstmark.domain.userdata import google_email, normalise_email, normalise_phone, sha256
from firstmark.errors import InvalidField

# What a person can name themselves by.
KINDS = ("visitor_id", "click_token", "event_id", "order_id", "email", "phone")
MAX_VALUE = 256
_HEX64 = re.compile(r"[0-9a-f]{64}")

# Classes of linked values the finder collects. `conversion`, `call`, `lease`, `outbox` and
# `webhook` are row ids; `user_hash` a SHA-256 inside a JSON column; `day_hash` and `session`
# the pseudonyms of one day and one visit; `webhook_msg` the id a webhook message was sent
# under (derived from a conversion's event id).
CLASSES = (
    "visitor_id", "click_token", "event_id", "order_id", "user_hash", "caller_hash",
    "conversion", "call", "lease", "outbox", "webhook", "webhook_msg", "session", "day_hash",
)  # fmt: skip
# Bounds one request: a person has a few hundred linked values, not millions. It also keeps
# every statement under the engines' parameter limits (32,766 SQLite, 32,767 PostgreSQL).
MAX_LINKED = 2000
MAX_ROUNDS = 8


@dataclass(frozen=True, slots=True)
class Subject:
    """The values to look for, by class. Never the clear e-mail or phone."""

    kind: str
    seeds: Mapping[str, tuple[str, ...]]


def subject(kind: object, value: object, caller_key: bytes) -> Subject:
    """The seeds of an identifier a person gave: e-mail and phone become every platform's
    SHA-256 (Meta's and Google's normalisations) and the keyed hash calls store."""
    if kind not in KINDS:
        raise InvalidField("kind", f"kind must be one of {', '.join(KINDS)}")
    if not isinstance(value, str) or not value.strip():
        raise InvalidField("value", "value is required", code="required")
    if len(value) > MAX_VALUE:
        raise InvalidField("value", f"value is longer than {MAX_VALUE} characters")
    text = value.strip()
    if kind == "email":
        if _HEX64.fullmatch(text.lower()):
            return Subject("email", {"user_hash": (text.lower(),)})
        try:
            email = normalise_email(text)
        except InvalidField:
            raise InvalidField("value", "value is not an e-mail address") from None
        hashes = dict.fromkeys((sha256(email), sha256(google_email(email))))
        return Subject("email", {"user_hash": tuple(hashes)})
    if kind == "phone":
        if _HEX64.fullmatch(text.lower()):
            return Subject("phone", {"user_hash": (text.lower(),)})
        try:
            digits = normalise_phone(text)
        except InvalidField:
            raise InvalidField(
                "value", "value must be an international number, like +47 912 34 567"
            ) from None
        return Subject(
            "phone",
            {
                "user_hash": (sha256(digits), sha256("+" + digits)),
                "caller_hash": (caller_hash(caller_key, "+" + digits),),
            },
        )
    return Subject(str(kind), {str(kind): (text,)})


@dataclass(frozen=True, slots=True)
class Find:
    """Rows of `table` whose `column` holds a value of class `matches` (inside a JSON text
    when `contains`; a webhook message id derived from it when `message_id`) lead to the
    values of `leads` (column → class)."""

    table: str
    column: str
    matches: str
    leads: Mapping[str, str]
    contains: bool = False
    message_id: bool = False


_CONVERSION_LEADS = {
    "id": "conversion", "event_id": "event_id", "order_id": "order_id",
    "visitor_id": "visitor_id", "click_token": "click_token",
}  # fmt: skip
_CALL_LEADS = {"id": "call", "lease_id": "lease", "conversion_id": "conversion"}
_LEASE_LEADS = {"id": "lease", "visitor_id": "visitor_id", "click_token": "click_token"}
_EVENT_LEADS = {"session_id": "session", "visit_key": "session", "visitor_day_hash": "day_hash"}
_VISIT_LEADS = {"key": "session", "visitor_day_hash": "day_hash"}

# Where each class of value sits. Day hashes and sessions lead nowhere further: two people
# behind one address and browser share a day hash, and one must not pull in the other.
FINDS: tuple[Find, ...] = (
    Find("conversions", "event_id", "event_id", _CONVERSION_LEADS),
    Find("conversions", "order_id", "order_id", _CONVERSION_LEADS),
    Find("conversions", "user_data", "user_hash", _CONVERSION_LEADS, contains=True),
    Find("conversions", "visitor_id", "visitor_id", _CONVERSION_LEADS),
    Find("conversions", "click_token", "click_token", _CONVERSION_LEADS),
    Find("conversions", "id", "conversion", _CONVERSION_LEADS),
    Find("calls", "caller_hash", "caller_hash", _CALL_LEADS),
    Find("calls", "caller_hashed", "user_hash", _CALL_LEADS, contains=True),
    Find("calls", "conversion_id", "conversion", _CALL_LEADS),
    Find("calls", "lease_id", "lease", _CALL_LEADS),
    Find("number_leases", "visitor_id", "visitor_id", _LEASE_LEADS),
    Find("number_leases", "click_token", "click_token", _LEASE_LEADS),
    Find("number_leases", "id", "lease", _LEASE_LEADS),
    Find("touches", "visitor_id", "visitor_id", {"click_token": "click_token"}),
    Find("touches", "click_token", "click_token", {"visitor_id": "visitor_id"}),
    Find("events", "visitor_id", "visitor_id", _EVENT_LEADS),
    Find("events", "session_id", "session", _EVENT_LEADS),
    Find("visits", "visitor_id", "visitor_id", _VISIT_LEADS),
    Find("visits", "key", "session", _VISIT_LEADS),
    Find("outbox", "conversion_id", "conversion", {"id": "outbox"}),
    # Webhook messages about a conversion are queued under an id derived from its event id
    # and the endpoint (domain/webhooks.py `conversion_message_ids`): the store derives the
    # ids of every linked event id and looks them up by the unique index, bodies unread.
    Find(
        "webhook_outbox",
        "msg_id",
        "event_id",
        {"id": "webhook", "msg_id": "webhook_msg"},
        message_id=True,
    ),
)

# Integer id columns (the rest are text).
ID_CLASSES = ("conversion", "call", "outbox", "webhook")


@dataclass(frozen=True, slots=True)
class Action:
    """What erasure does to the linked rows of one table.

    `where`: column → class; a row is linked when any of them holds a linked value.
    `delete`: the row goes (`only`: when `status_column` is one of these, else it is kept
    and cleared), and with it the rows of `children` (table → column naming it). `clear`:
    column → the value it gets (None or a constant). `replace`: column → the classes whose
    values get one random stand-in each, the same in every table.
    """

    table: str
    where: Mapping[str, str]
    delete: bool = False
    clear: Mapping[str, str | None] = field(default_factory=dict)
    replace: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    status_column: str | None = None
    only: tuple[str, ...] = ()
    children: Mapping[str, str] = field(default_factory=dict)


# A visit is keyed by its session id under analytics consent, else by the day's hash.
VISIT_KEY = ("session", "day_hash")

# In order: children before the rows they point to.
ACTIONS: tuple[Action, ...] = (
    Action(
        "outbox", {"id": "outbox"}, delete=True, status_column="status",
        only=("pending", "retry", "sending"),
        clear={"click_ids": "{}", "sealed_client": None},
        children={"deliveries": "outbox_id"},
    ),
    # Their bodies carry the event id, order id and hashed user data. Dead ones go too: a
    # replay would send the body again. Sent ones keep their status and delivery log.
    Action(
        "webhook_outbox", {"id": "webhook"}, delete=True, status_column="status",
        only=("pending", "retry", "sending", "dead"),
        clear={"body": "{}"}, replace={"msg_id": ("webhook_msg",)},
        children={"webhook_deliveries": "outbox_id"},
    ),
    Action(
        "calls", {"id": "call"},
        clear={"caller_hash": None, "caller_last2": None, "caller_hashed": None, "lease_id": None},
    ),
    Action("number_leases", {"id": "lease"}, delete=True),
    Action("touches", {"visitor_id": "visitor_id", "click_token": "click_token"}, delete=True),
    Action(
        "conversions", {"id": "conversion"},
        clear={
            "order_id": None, "visitor_id": None, "click_token": None, "user_data": "{}",
            "customer_hash": None,
        },
        replace={"event_id": ("event_id",)},
    ),
    Action(
        "events",
        {"visitor_id": "visitor_id", "session_id": "session", "visitor_day_hash": "day_hash"},
        clear={"props": None},
        replace={
            "visitor_id": ("visitor_id",), "session_id": ("session",),
            "visit_key": VISIT_KEY, "visitor_day_hash": ("day_hash",),
        },
    ),
    Action(
        "visits",
        {"visitor_id": "visitor_id", "key": "session", "visitor_day_hash": "day_hash"},
        replace={
            "visitor_id": ("visitor_id",), "key": VISIT_KEY, "visitor_day_hash": ("day_hash",),
        },
    ),
    Action(
        "hits", {"visitor_day_hash": "day_hash"}, replace={"visitor_day_hash": ("day_hash",)}
    ),
    Action(
        "hit_visitors", {"visitor_day_hash": "day_hash"},
        replace={"visitor_day_hash": ("day_hash",)},
    ),
)  # fmt: skip

# Tables whose rows are linked but hold no identifier once the rows above are treated: they
# stay, and the answer says so (attribution credits are report inputs, like rollups).
KEPT: Mapping[str, str] = {"attribution_credits": "conversion", "credited": "conversion"}


def stand_in(cls: str, token: str) -> str:
    """The random value that replaces a linked one (`token`: random hex): conversions keep a
    unique event id that says it was erased, sent webhook messages a unique id that does."""
    if cls == "event_id":
        return f"erased-{token}"
    if cls == "webhook_msg":
        return f"msg_erased-{token}"
    return token


@dataclass
class Linked:
    """Everything found, by class; `truncated` when the bound stopped the search."""

    values: dict[str, set[str]] = field(default_factory=lambda: {c: set() for c in CLASSES})
    truncated: bool = False

    def add(self, cls: str, value: object) -> bool:
        if value is None or value == "":
            return False
        text = str(value)
        found = self.values[cls]
        if text in found:
            return False
        if self.size >= MAX_LINKED:
            self.truncated = True
            return False
        found.add(text)
        return True

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.values.values())

    def get(self, cls: str) -> list[str]:
        return sorted(self.values.get(cls, ()))

    @classmethod
    def of(cls, subject: Subject) -> Linked:
        linked = cls()
        for name, values in subject.seeds.items():
            for value in values:
                linked.add(name, value)
        return linked


def json_contains(value: str) -> str:
    """A LIKE pattern finding a hash as a JSON string value: hex needs no escaping."""
    return f'%"{value}"%'


# --- consent you can show -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsentState:
    """A consent state as reports show it: what firstmark stores and forwards under it."""

    key: str
    label: str
    stored: str
    forwarded: str


# The one source of the table in docs/privacy.md and of the Privacy page.
CONSENT_STATES: tuple[ConsentState, ...] = (
    ConsentState(
        "none", "No consent",
        "aggregate rows: path, referrer host, UTM, country, device class, the daily-salted "
        "visitor hash (salt deleted after 48 h)",
        "nothing",
    ),
    ConsentState(
        "analytics", "Analytics",
        "as no consent, plus the first-party visitor id, session id and attribution touches",
        "nothing",
    ),
    ConsentState(
        "ads", "Ads only",
        "as no consent, plus platform click ids and hashed user data on conversions",
        "conversions with hashed user data and click ids, when ad_user_data is granted",
    ),
    ConsentState(
        "full", "Analytics and ads",
        "as analytics, plus platform click ids and hashed user data on conversions",
        "conversions with hashed user data and click ids; ad_personalization where a "
        "platform takes it",
    ),
    ConsentState(
        "gpc", "Global Privacy Control",
        "as no consent, whatever the page says",
        "nothing",
    ),
    ConsentState(
        "tcf", "Decided by a TCF string",
        "as the state the IAB TCF v2.2 string decided (purpose 1 with 7, 9 or 10 for "
        "analytics), counted in that state's row too",
        "as that state",
    ),
)  # fmt: skip
STATE_KEYS = tuple(s.key for s in CONSENT_STATES)
# TCF overlaps the others: an event decided by a TCF string is in its state's row and here.
OVERLAY = ("tcf",)
TCF_NOTE = (
    "Visits decided by an IAB TCF v2.2 string are counted under the state it decided and "
    "again in the TCF row; shares there are of all visits. Conversions carry no TCF string."
)


def recorded_state(label: str) -> tuple[str, bool]:
    """An event row's consent (`analytics`, `none:tcf`, …) as (state, decided by TCF)."""
    state, _, flag = label.partition(":")
    return state, flag == "tcf"


def conversion_state(consent_json: Mapping[str, object]) -> str:
    """The state a conversion's stored consent falls under (the events' labels)."""
    return Consent.from_json(consent_json).label


@dataclass(frozen=True, slots=True)
class StateCount:
    state: str
    visits: int
    conversions: int


def consent_share(counts: Sequence[StateCount]) -> dict[str, object]:
    """Shares by state and the modelled totals: observed ÷ the share that allows measuring
    it. Visits are counted in every state (aggregate rows), so their total is observed;
    conversions tied to a visitor need analytics consent, so the modelled conversion total
    divides the consented ones by the analytics share of visits. Labelled as modelled."""
    by_state = {c.state: c for c in counts}
    visits = sum(c.visits for c in counts if c.state not in OVERLAY)
    conversions = sum(c.conversions for c in counts if c.state not in OVERLAY)
    rows = []
    for state in CONSENT_STATES:
        c = by_state.get(state.key, StateCount(state.key, 0, 0))
        rows.append(
            {
                "state": state.key,
                "label": state.label,
                "visits": c.visits,
                "visit_share": round(c.visits / visits, 4) if visits else None,
                "conversions": c.conversions,
                "conversion_share": round(c.conversions / conversions, 4) if conversions else None,
                "stored": state.stored,
                "forwarded": state.forwarded,
            }
        )
    consented = ("analytics", "full")
    share = sum(by_state[s].visits for s in consented if s in by_state) / visits if visits else 0
    attributed = sum(by_state[s].conversions for s in consented if s in by_state)
    return {
        "states": rows,
        "observed": {"visits": visits, "conversions": conversions},
        "modelled": {
            "label": "modelled: observed ÷ consent share, an estimate, not a count",
            "analytics_share": round(share, 4) if visits else None,
            "attributable_conversions": attributed,
            "conversions": round(attributed / share, 1) if share else None,
        },
        "tcf": TCF_NOTE,
    }


def consent_table() -> str:
    """The Markdown table in docs/privacy.md, from `CONSENT_STATES`."""
    lines = ["| consent state | what is stored | what is forwarded |", "|---|---|---|"]
    lines += [f"| {s.label} (`{s.key}`) | {s.stored} | {s.forwarded} |" for s in CONSENT_STATES]
    return "\n".join(lines)
