"""Calls to tracking numbers, DNI leases, and the conversion a long enough call becomes.

Every provider's webhook is read into `CallEvent`s (providers.py per provider); this module
merges them into one `Call` per provider call id, whatever order and however often they
arrive, and decides when a call qualifies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from firstmark.domain import conversions
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.events import Touch
from firstmark.domain.goals import Goal
from firstmark.domain.numbers import TrackingNumber
from firstmark.domain.phones import caller_hash, last_two
from firstmark.domain.times import iso_ts
from firstmark.domain.userdata import hash_user_data

# A call's status, in the order a call moves through them; the last five are final.
STATUSES = ("ringing", "answered", "completed", "busy", "no-answer", "failed", "canceled")
FINAL = frozenset(STATUSES[2:])


@dataclass(frozen=True)
class Lease:
    """A pool number lent to one visitor session: where that session came from, so a call to
    the number while the lease holds lands on the session's channel. Identifiers only with
    analytics consent, click ids only with ads consent (captured when the lease is taken)."""

    id: str  # public, random: the script renews the lease with it
    pool: str
    started: float
    expires: float
    consent: Consent = field(default_factory=Consent)
    number_id: int | None = None  # set by the store when a number is taken
    e164: str = ""  # the leased number, filled in by the store
    site_id: int | None = None
    visitor_id: str | None = None
    click_token: str | None = None
    link_id: int | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    referrer_host: str | None = None
    click_ids: Mapping[str, str] = field(default_factory=dict)

    @property
    def channel(self) -> str:
        """Where the session came from, in one word for the calls log."""
        if self.click_ids or self.utm_medium in ("cpc", "ppc", "paid", "paidsearch"):
            return "paid"
        if self.utm_source or self.link_id is not None:
            return "campaign"
        if self.referrer_host:
            return "referral"
        return "direct"


@dataclass(frozen=True)
class CallEvent:
    """One webhook, read: the provider's id of the inbound call and what it says."""

    provider: str
    call_id: str
    ts: float
    status: str  # one of STATUSES
    to: str | None = None  # the tracking number called (E.164), when the webhook names it
    caller: str | None = None  # E.164 of the caller; used for hashing, never stored
    duration_s: int | None = None  # talk time (seconds since answer) when the webhook gives it


@dataclass(frozen=True)
class Call:
    provider: str
    call_id: str
    number_id: int
    started: float
    status: str = "ringing"
    answered: float | None = None
    ended: float | None = None
    duration_s: int | None = None  # talk time
    caller_hash: str | None = None
    caller_last2: str | None = None
    lease_id: str | None = None
    channel: str = "direct"  # paid, campaign, referral, direct, or static (a printed number)
    link_id: int | None = None
    campaign: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_content: str | None = None
    conversion_id: int | None = None
    caller_hashed: str | None = None  # JSON: the caller's platform hashes, under ads consent
    id: int | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL


def new_call(
    event: CallEvent,
    number: TrackingNumber,
    *,
    lease: Lease | None,
    link: Mapping[str, Any] | None,
    hash_key: bytes,
) -> Call:
    """The call as first stored: attributed to the number's static binding or to the lease
    active at the time of the call. `link` is the bound link's campaign fields, if any."""
    assert number.id is not None
    caller = event.caller
    base = Call(
        provider=event.provider,
        call_id=event.call_id,
        number_id=number.id,
        started=event.ts,
        caller_hash=caller_hash(hash_key, caller) if caller else None,
        caller_last2=last_two(caller) if caller else None,
        caller_hashed=platform_hashes(caller, lease.consent if lease else None),
    )
    if lease is not None:
        attributed = replace(
            base,
            lease_id=lease.id,
            channel=lease.channel,
            link_id=lease.link_id,
            utm_source=lease.utm_source,
            utm_medium=lease.utm_medium,
            utm_campaign=lease.utm_campaign,
            utm_content=lease.utm_content,
            campaign=lease.utm_campaign,
        )
    elif number.static and (number.link_id is not None or number.campaign):
        link = link or {}
        attributed = replace(
            base,
            channel="static",
            link_id=number.link_id,
            campaign=number.campaign or link.get("campaign") or link.get("utm_campaign"),
            utm_source=link.get("utm_source"),
            utm_medium=link.get("utm_medium"),
            utm_campaign=link.get("utm_campaign") or number.campaign,
            utm_content=link.get("utm_content"),
        )
    else:
        attributed = replace(base, channel="static" if number.static else "direct")
    return merge(attributed, event)


def merge(call: Call, event: CallEvent) -> Call:
    """A call after one more webhook. Webhooks repeat and arrive out of order: a final status
    never goes back, times are kept from their first report, durations only grow."""
    status = call.status
    if not call.final:
        if event.status in FINAL or STATUSES.index(event.status) > STATUSES.index(status):
            status = event.status
    answered = call.answered
    if answered is None and event.status == "answered":
        answered = event.ts
    ended = call.ended
    if ended is None and event.status in FINAL:
        ended = event.ts
    duration = call.duration_s
    if event.duration_s is not None:
        duration = max(duration or 0, event.duration_s)
    if answered is None and duration:
        answered = (ended or event.ts) - duration
    return replace(call, status=status, answered=answered, ended=ended, duration_s=duration)


def qualifies(call: Call, number: TrackingNumber) -> bool:
    """A completed call with at least the number's qualifying talk time."""
    return (
        call.status == "completed"
        and call.duration_s is not None
        and call.duration_s >= number.qualify_s
    )


def event_id(call: Call) -> str:
    """The conversion's idempotency key: the same call can never count twice."""
    return f"call.{call.provider}.{call.call_id}"[:128]


def platform_hashes(caller: str | None, consent: Consent | None) -> str | None:
    """The caller's number hashed as ad platforms take it (JSON), only when the visitor behind
    the call consented to ads; else None, and nothing of the number beyond the keyed hash and
    last two digits is kept."""
    if not caller or consent is None or not consent.forwarding:
        return None
    return json.dumps(hash_user_data({"phone": caller}), sort_keys=True)


def with_caller(call: Call, caller: str, consent: Consent | None, hash_key: bytes) -> Call:
    """A stored call completed with a caller a later webhook named (the first one did not)."""
    return replace(
        call,
        caller_hash=call.caller_hash or caller_hash(hash_key, caller),
        caller_last2=call.caller_last2 or last_two(caller),
        caller_hashed=call.caller_hashed or platform_hashes(caller, consent),
    )


def to_conversion(
    call: Call,
    number: TrackingNumber,
    goal: Goal,
    *,
    lease: Lease | None,
    caller: str | None,
) -> Conversion:
    """The conversion a qualified call becomes, with the consent the visitor gave on the page
    (a static number has no visitor, so its calls are counted but never forwarded). With ads
    consent the caller's number goes along hashed (platform-normalised SHA-256) only."""
    consent = lease.consent if lease is not None else Consent()
    # The caller as any webhook of the call named it: the event that qualifies a call (the
    # dialled leg's end) usually carries no caller, the first one does.
    user_data: dict[str, str] = {}
    if consent.forwarding:
        if caller:
            user_data = hash_user_data({"phone": caller})
        elif call.caller_hashed:
            user_data = dict(json.loads(call.caller_hashed))
    # The call's channel (the number's link or the page's) is the touch it is credited to;
    # its click ids are the ones the page had when the number was shown.
    channel = Touch(
        ts=lease.started if lease is not None else call.started,
        link_id=call.link_id,
        utm_source=call.utm_source,
        utm_medium=call.utm_medium,
        utm_campaign=call.utm_campaign,
        click_ids=dict(lease.click_ids) if lease is not None else {},
    )
    return conversions.build(
        goal,
        event_id=event_id(call),
        ts=call.ended or call.started,
        consent=consent,
        source="call",
        visitor_id=lease.visitor_id if lease is not None else None,
        click_token=lease.click_token if lease is not None else None,
        link_id=call.link_id,
        touch=channel,
        user_data=user_data,
        site_id=lease.site_id if lease is not None else None,
    )


def to_json(call: Call, number: TrackingNumber | None = None) -> dict[str, Any]:
    def when(ts: float | None) -> str | None:
        return iso_ts(ts)

    return {
        "id": call.id,
        "provider": call.provider,
        "call_id": call.call_id,
        "number_id": call.number_id,
        "number": number.e164 if number else None,
        "label": number.label if number else None,
        "status": call.status,
        "started": when(call.started),
        "answered": when(call.answered),
        "ended": when(call.ended),
        "duration_seconds": call.duration_s,
        "qualified": call.conversion_id is not None,
        "caller": f"…{call.caller_last2}" if call.caller_last2 else None,
        "channel": call.channel,
        "link_id": call.link_id,
        "campaign": call.campaign,
        "utm_source": call.utm_source,
        "utm_medium": call.utm_medium,
        "utm_campaign": call.utm_campaign,
        "utm_content": call.utm_content,
        "conversion_id": call.conversion_id,
    }
