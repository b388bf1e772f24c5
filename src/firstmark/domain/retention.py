"""Retention: how long each class of data is kept, as data.

A data class names the tables it covers and, for each, the column whose age decides. Most
rows go whole (`RawTable`); some are kept and only lose what identifies (`Scrub`): a
conversion stays counted once its hashed user data is gone, a call stays in the reports once
its caller hash and last digits are gone. Rollups are in no class: reports read them, so they
outlive the raw rows. Adding a table to retention is one line here; a table the database does
not have (yet) is skipped by the purge.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY = 86_400.0
# CNIL's audience-measurement exemption: data kept no longer than 13 months.
EXEMPT_MAX_DAYS = 395


@dataclass(frozen=True, slots=True)
class RawTable:
    """Rows of `table` whose `ts` is older than the cutoff are deleted; `only` narrows them to
    rows whose column holds one of the values (outbox rows that are finished)."""

    table: str
    ts: str
    only: tuple[str, tuple[str, ...]] | None = None


@dataclass(frozen=True, slots=True)
class Scrub:
    """Rows of `table` older than the cutoff keep living with each of `columns` set to its
    cleared value (None for NULL)."""

    table: str
    ts: str
    columns: tuple[tuple[str, str | None], ...]


Action = RawTable | Scrub


@dataclass(frozen=True, slots=True)
class DataClass:
    name: str  # FIRSTMARK_RETENTION_<NAME>_DAYS
    default_days: int
    actions: tuple[Action, ...]
    what: str  # one line for docs/privacy.md and `firstmark purge`
    setting: bool = True  # salts are kept 48 hours by design: no setting to lengthen it


CLASSES: tuple[DataClass, ...] = (
    DataClass("hits", 395, (RawTable("hits", "ts"),), "raw clicks and scans"),
    DataClass("events", 395, (RawTable("events", "ts"),), "site pageviews and events"),
    DataClass("visits", 395, (RawTable("visits", "started"),), "visits"),
    DataClass("touches", 395, (RawTable("touches", "ts"),), "attribution touches"),
    DataClass(
        # The attribution report reads the credits: they hold no identifier (a conversion id,
        # a channel and a share), so by default they are kept like a rollup.
        "credits",
        0,
        (RawTable("attribution_credits", "ts"),),
        "attribution credits (what the attribution report reads)",
    ),
    DataClass(
        # The longest window any platform adapter accepts a conversion in (Google Ads and
        # LinkedIn: 90 days): past it the hashes can never be sent, so they go.
        "conversions",
        90,
        (Scrub("conversions", "ts", (("user_data", "{}"),)),),
        "hashed user data of conversions (the conversion itself is kept)",
    ),
    DataClass(
        "outbox",
        90,
        (
            RawTable("deliveries", "ts"),
            RawTable("outbox", "created_at", ("status", ("sent", "dead"))),
            RawTable("webhook_deliveries", "ts"),
            RawTable("webhook_outbox", "created_at", ("status", ("sent", "dead"))),
        ),
        "finished outbox rows and delivery logs (forwarding and webhooks)",
    ),
    DataClass(
        "calls",
        90,
        (Scrub("calls", "started", (("caller_hash", None), ("caller_last2", None))),),
        "caller hash and last digits of calls (the call itself is kept)",
    ),
    DataClass("leases", 30, (RawTable("number_leases", "expires"),), "DNI number leases"),
    DataClass(
        "salts",
        2,
        (
            RawTable("salts", "day"),
            RawTable("hit_visitors", "day"),
            RawTable("visitor_sketches", "day"),
        ),
        "daily visitor-hash salts (deleted 48 hours after their day starts)",
        setting=False,
    ),
    DataClass("sessions", 1, (RawTable("sessions", "expires_at"),), "expired dashboard sessions"),
    DataClass("audit", 395, (RawTable("audit", "ts"),), "audit log"),
)

BY_NAME = {c.name: c for c in CLASSES}


def setting_name(name: str) -> str:
    return f"retention_{name}_days"


def effective_days(data_class: DataClass, configured: int, *, exempt: bool) -> int:
    """The days a class is kept: 0 means for ever, except in exempt mode, which caps every
    class at 13 months."""
    if not exempt:
        return configured
    return EXEMPT_MAX_DAYS if configured == 0 else min(configured, EXEMPT_MAX_DAYS)


def cutoff(now: float, days: int, action: Action) -> float | None:
    """The age before which `action` applies, in the unit of its column (days since the
    epoch for a `day` column: salts and their visitor rows; epoch seconds elsewhere); None
    when the class is kept for ever."""
    if days <= 0:
        return None
    if action.ts == "day":
        # A day's salt is used for 24 hours and kept 24 more: day D goes at the start of D+2.
        return float(int(now // DAY) - days + 1)
    return now - days * DAY
