"""Customers: who bought for the first time, through which channel, what it cost to win them
(CAC) and what they brought in over 30, 90 and 365 days (LTV), by acquisition channel and by
cohort (docs/customers.md).

A customer is a conversion identity the consent allowed to keep: the visitor id or the
backend's customer id (analytics consent), or the hashed e-mail (ad user-data consent).
Conversions that share any of these belong to one customer (a visitor who later signs in
with the same customer id is one customer, not two). A conversion with none is unidentified:
left out of customers by default and counted on its own line, or, asked for, counted as a
customer of its own (which counts a repeat buyer again each time).

A customer's channel is the first touch of their first conversion (the first_touch model's
stored credit); revenue is the value of their conversions in the report's currency.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from firstmark.domain import csvcells
from firstmark.errors import InvalidField

HORIZONS = (30, 90, 365)
DAY = 86_400
UNIDENTIFIED = ("exclude", "separate")
GROUPS = ("channel", "campaign")
NONE = "(none)"
ZERO = Decimal(0)
CENT = Decimal("0.01")


class Sale(NamedTuple):
    """A conversion as the store reads it for this report."""

    id: int
    ts: float
    value: float | None
    currency: str | None
    visitor_id: str | None
    customer_hash: str | None
    email_hash: str | None
    source: str | None  # its first touch (the first_touch model's stored credit)
    medium: str | None
    campaign: str | None


@dataclass(frozen=True, slots=True)
class Purchase:
    """A conversion as this report reads it."""

    id: int
    ts: float
    value: Decimal  # in the report's currency; 0 without a value or in another currency
    keys: tuple[str, ...]  # identities: "v:" visitor id, "c:" customer hash, "e:" e-mail hash
    source: str | None = None  # its first touch (the first_touch model's credit)
    medium: str | None = None
    campaign: str | None = None


def purchases(sales: Iterable[Sale], currency: str | None) -> list[Purchase]:
    """Sales as purchases: the value counts in `currency` only (else 0)."""
    return [
        Purchase(
            s.id,
            s.ts,
            Decimal(str(s.value)) if s.value is not None and s.currency == currency else ZERO,
            identity_keys(s.visitor_id, s.customer_hash, s.email_hash),
            s.source,
            s.medium,
            s.campaign,
        )
        for s in sales
    ]


def identity_keys(
    visitor_id: str | None, customer_hash: str | None, email_hash: str | None
) -> tuple[str, ...]:
    """The identities a conversion carries, each prefixed by its kind so they never collide."""
    found = (("c:", customer_hash), ("e:", email_hash), ("v:", visitor_id))
    return tuple(kind + value for kind, value in found if value)


@dataclass(frozen=True, slots=True)
class Customer:
    purchases: tuple[Purchase, ...]
    first: Purchase  # the earliest conversion: when and through which channel they came

    @classmethod
    def of(cls, purchases: Iterable[Purchase]) -> Customer:
        ordered = tuple(sorted(purchases, key=lambda p: (p.ts, p.id)))
        return cls(ordered, ordered[0])

    def revenue_within(self, days: int) -> Decimal:
        """Revenue from the first conversion up to `days` days after it."""
        start = self.first.ts
        until = start + days * DAY
        return sum((p.value for p in self.purchases if p.ts < until), Decimal(0))


def customers(purchases: Iterable[Purchase], unidentified: str = "exclude") -> tuple[
    list[Customer], list[Purchase]
]:  # fmt: skip
    """(customers, unidentified conversions left out). Conversions sharing any identity are
    joined (union-find over the identities); without `exclude`, each unidentified conversion
    is a customer of its own."""
    if unidentified not in UNIDENTIFIED:
        raise InvalidField("unidentified", f"unidentified must be {' or '.join(UNIDENTIFIED)}")
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]  # halve the path as we go
            key = parent[key]
        return key

    known: list[Purchase] = []
    alone: list[Purchase] = []
    for p in purchases:
        if not p.keys:
            alone.append(p)
            continue
        known.append(p)
        for key in p.keys:
            parent.setdefault(key, key)
        first = root(p.keys[0])
        for key in p.keys[1:]:
            other = root(key)
            if other != first:
                parent[other] = first
    groups: dict[str, list[Purchase]] = {}
    for p in known:
        groups.setdefault(root(p.keys[0]), []).append(p)
    found = [Customer.of(g) for g in groups.values()]
    if unidentified == "separate":
        return found + [Customer.of([p]) for p in alone], []
    return found, alone


@dataclass(frozen=True, slots=True)
class Ltv:
    days: int
    customers: int  # customers whose first conversion is at least `days` old
    revenue: Decimal  # their revenue within `days` of it
    per_customer: Decimal | None


@dataclass(frozen=True, slots=True)
class Row:
    key: str  # the acquisition channel (or campaign), or a cohort month with it
    new_customers: int
    first_revenue: Decimal  # revenue of the first conversions
    spend: Decimal | None
    cac: Decimal | None
    ltv: tuple[Ltv, ...]

    def ratio(self, ltv: Ltv) -> Decimal | None:
        """LTV:CAC for one horizon: None without both."""
        if ltv.per_customer is None or not self.cac:
            return None
        return (ltv.per_customer / self.cac).quantize(Decimal("0.01"))


def _ltv(group: Sequence[Customer], now: float) -> tuple[Ltv, ...]:
    out = []
    for days in HORIZONS:
        grown = [c for c in group if c.first.ts + days * DAY <= now]
        revenue = sum((c.revenue_within(days) for c in grown), Decimal(0))
        per = (revenue / len(grown)).quantize(Decimal("0.01")) if grown else None
        out.append(Ltv(days, len(grown), revenue, per))
    return tuple(out)


def _row(key: str, group: Sequence[Customer], spend: Decimal | None, now: float) -> Row:
    n = len(group)
    cac = (spend / n).quantize(Decimal("0.01")) if spend is not None and n else None
    first = sum((c.first.value for c in group), Decimal(0))
    return Row(key, n, first, spend, cac, _ltv(group, now))


def acquired(found: Iterable[Customer], start: float, end: float) -> list[Customer]:
    """The customers whose first conversion is in [start, end): new in the period."""
    return [c for c in found if start <= c.first.ts < end]


def by_channel(
    new: Sequence[Customer],
    key: Callable[[Purchase], str],
    spend: Mapping[str, Decimal],
    now: float,
) -> list[Row]:
    """A row per acquisition channel (or campaign) with spend or new customers, most
    customers first; spend without customers shows no CAC."""
    groups: dict[str, list[Customer]] = {k: [] for k in spend}
    for c in new:
        groups.setdefault(key(c.first), []).append(c)
    rows = [_row(k, g, spend.get(k), now) for k, g in groups.items()]
    return sorted(rows, key=lambda r: (-r.new_customers, r.key))


def month(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m")


def cohorts(
    new: Sequence[Customer], key: Callable[[Purchase], str], now: float
) -> list[tuple[str, Row]]:
    """(first-conversion month, row) per month and acquisition channel, oldest month first."""
    groups: dict[tuple[str, str], list[Customer]] = {}
    for c in new:
        groups.setdefault((month(c.first.ts), key(c.first)), []).append(c)
    return [
        (m, _row(k, groups[(m, k)], None, now))
        for m, k in sorted(groups, key=lambda mk: (mk[0], -len(groups[mk]), mk[1]))
    ]


def total(rows: Sequence[Row], new: Sequence[Customer], now: float) -> Row:
    """All channels together."""
    spends = [r.spend for r in rows if r.spend is not None]
    spend = sum(spends, Decimal(0)) if spends else None
    return _row("(all)", new, spend, now)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(Decimal("0.01")))


def row_json(row: Row) -> dict[str, Any]:
    return {
        "new_customers": row.new_customers,
        "first_revenue": _money(row.first_revenue),
        "spend": _money(row.spend),
        "cac": _money(row.cac),
        "ltv": {
            str(ltv.days): {
                "customers": ltv.customers,
                "per_customer": _money(ltv.per_customer),
                "ltv_cac": None if row.ratio(ltv) is None else str(row.ratio(ltv)),
            }
            for ltv in row.ltv
        },
    }


CSV_HEADER = ["cohort", "group", "new_customers", "first_revenue", "spend", "cac"] + [
    f"{kind}_{days}d" for days in HORIZONS for kind in ("ltv", "ltv_customers", "ltv_cac")
]


def to_csv(rows: Sequence[Row], all_rows: Row, months: Sequence[tuple[str, Row]]) -> str:
    """The channels (cohort "all"), their total, then each cohort month's channels."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in [*rows, all_rows]:
        writer.writerow(csvcells.row(csv_row("all", row)))
    for cohort, row in months:
        writer.writerow(csvcells.row(csv_row(cohort, row)))
    return buffer.getvalue()


def csv_row(cohort: str, row: Row) -> list[Any]:
    cells: list[Any] = [
        cohort, row.key, row.new_customers, _money(row.first_revenue), _money(row.spend),
        _money(row.cac),
    ]  # fmt: skip
    for ltv in row.ltv:
        ratio = row.ratio(ltv)
        cells += [_money(ltv.per_customer), ltv.customers, None if ratio is None else str(ratio)]
    return cells
