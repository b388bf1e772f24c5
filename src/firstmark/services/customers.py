"""The customers report (docs/customers.md): read conversions, spend and channel rules, then
join conversions into customers and sum them by acquisition channel and cohort
(domain/customers.py), off the event loop."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from firstmark.domain import customers, reports
from firstmark.domain.channels import Rule
from firstmark.domain.customers import Purchase, Row, Sale
from firstmark.domain.groupings import channel_key
from firstmark.errors import InvalidField
from firstmark.services import credits
from firstmark.services.reports import Window
from firstmark.services.workers import Workers, run
from firstmark.store import Store

LONGEST = max(customers.HORIZONS) * customers.DAY


@dataclass(frozen=True)
class Found:
    rows: list[Row]  # by acquisition channel (or campaign)
    total: Row
    cohorts: list[tuple[str, Row]]  # (first-conversion month, row)
    unidentified: int  # conversions in the period left out: no identity consent allowed
    unidentified_revenue: Decimal


@dataclass(frozen=True)
class Report:
    found: Found
    currency: str | None
    others: list[str]
    group_by: str
    unidentified: str  # exclude or separate


def parse_group(raw: str | None) -> str:
    group = raw or "channel"
    if group not in customers.GROUPS:
        raise InvalidField("group_by", f"group_by must be {' or '.join(customers.GROUPS)}")
    return group


def parse_unidentified(raw: str | None) -> str:
    value = raw or "exclude"
    if value not in customers.UNIDENTIFIED:
        raise InvalidField(
            "unidentified", f"unidentified must be {' or '.join(customers.UNIDENTIFIED)}"
        )
    return value


def _key(group: str, rules: Sequence[Rule]) -> Callable[[Purchase], str]:
    if group == "campaign":
        return lambda p: p.campaign or customers.NONE
    return lambda p: channel_key(p.source, p.medium, rules)


def compute(
    sales: Sequence[Sale],
    currency: str | None,
    start: float,
    end: float,
    now: float,
    group: str,
    rules: Sequence[Rule],
    spend: Mapping[str, Decimal],
    unidentified: str,
) -> Found:
    """The report from the store's rows: pure, and pickled to a worker process."""
    found, alone = customers.customers(customers.purchases(sales, currency), unidentified)
    new = customers.acquired(found, start, end)
    key = _key(group, rules)
    rows = customers.by_channel(new, key, spend, now)
    left = [p for p in alone if start <= p.ts < end]
    return Found(
        rows,
        customers.total(rows, new, now),
        customers.cohorts(new, key, now),
        len(left),
        sum((p.value for p in left), Decimal(0)),
    )


async def report(
    store: Store,
    window: Window,
    requested: str | None,
    group: str,
    unidentified: str,
    workers: Workers | None,
    now: float | None = None,
) -> Report:
    """New customers of the window by acquisition channel, their CAC and LTV, and cohorts.
    Conversions up to 365 days after the window count toward its customers' LTV."""
    now = time.time() if now is None else now
    until = min(now, window.end + LONGEST)
    if await store.credits_pending():  # their first touch comes from the stored credits
        await credits.credit_range(store, 0.0, until)
    sales = await store.customer_sales(until)
    dims = ["source", "medium", "campaign"] if group == "campaign" else ["source", "medium"]
    costs = await store.cost_totals(window.first_day, window.last_day, dims)
    totals = await store.conversion_totals((), window.start, window.end)
    currency = reports.pick_currency(requested, costs, totals)
    rules = await store.list_channel_rules()
    spend: dict[str, Decimal] = {}
    for cost in costs:
        if cost.currency == currency:
            name = (
                cost.key[2] if group == "campaign" else channel_key(cost.key[0], cost.key[1], rules)
            )
            spend[name] = spend.get(name, Decimal(0)) + cost.spend
    found = await run(
        workers, compute, sales, currency, window.start, window.end, now, group, rules, spend,
        unidentified,
    )  # fmt: skip
    others = reports.other_currencies(currency, costs, totals)
    return Report(found, currency, others, group, unidentified)
