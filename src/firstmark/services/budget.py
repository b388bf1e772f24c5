"""Budget suggestions (docs/budget.md): daily spend from the imported costs and daily credits
of one attribution model, by channel; curves and the reallocation are fitted off the event
loop (domain/budget.py). Nothing is ever changed: this only reads."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from firstmark.domain import attribution, budget, reports
from firstmark.domain.budget import Channel, Suggestion, Variation
from firstmark.domain.groupings import channel_key
from firstmark.errors import InvalidField
from firstmark.services import credits
from firstmark.services.reports import Window
from firstmark.services.workers import Workers, run
from firstmark.store import Store

METRICS = ("revenue", "conversions")
DEFAULT_MODEL = "position_based"
# Conversions this long after the period still credit its touches (a click on the last day
# that buys a week later is that day's return).
LAG_DAYS = 30


@dataclass(frozen=True)
class Data:
    """What a suggestion rests on, per channel: its days and how much its spend varies."""

    name: str
    spend: float  # the period's spend
    outcome: float  # the period's credited outcome
    variation: Variation
    days: Channel  # the daily points themselves


@dataclass(frozen=True)
class Plan:
    currency: str | None
    others: list[str]
    model: str
    metric: str
    days: int  # days of the period from the first to the last with spend
    data: list[Data]
    suggestion: Suggestion | None
    reasons: list[str]  # why there is no suggestion


def parse_model(raw: str | None) -> str:
    model = raw or DEFAULT_MODEL
    if model not in attribution.MODELS:
        raise InvalidField("model", f"model must be one of {', '.join(attribution.MODELS)}")
    return model


def parse_metric(raw: str | None) -> str:
    metric = raw or "revenue"
    if metric not in METRICS:
        raise InvalidField("metric", f"metric must be {' or '.join(METRICS)}")
    return metric


def parse_channels(raw: str | None) -> list[str]:
    """Channel names, comma-separated; none means every channel with spend."""
    names = [n.strip() for n in (raw or "").split(",") if n.strip()]
    if any(len(n) > 100 for n in names):
        raise InvalidField("channels", "a channel name is at most 100 characters")
    return names


async def plan(
    store: Store,
    window: Window,
    requested: str | None,
    model: str,
    metric: str,
    only: Sequence[str],
    workers: Workers | None,
    now: float | None = None,
) -> Plan:
    now = time.time() if now is None else now
    costs = await store.cost_totals(window.first_day, window.last_day, ["day", "source", "medium"])
    totals = await store.conversion_totals((), window.start, window.end)
    currency = reports.pick_currency(requested, costs, totals)
    others = reports.other_currencies(currency, costs, totals)
    rules = await store.list_channel_rules()
    spend: dict[str, dict[int, float]] = {}
    for cost in costs:
        if cost.currency == currency:
            day, source, medium = cost.key
            days = spend.setdefault(channel_key(source, medium, rules), {})
            days[int(day)] = days.get(int(day), 0.0) + float(cost.spend)
    unknown = [n for n in only if n not in spend]
    if unknown:
        raise InvalidField("channels", f"no spend in the period for {unknown[0]!r}")
    if only:
        spend = {n: spend[n] for n in only}
    until = min(now, window.end + LAG_DAYS * budget.DAY)
    if await store.credits_pending():
        await credits.credit_range(store, window.start, until)
    found = await store.credit_totals(
        ("day", "source", "medium"), window.start, until, currency, rolled=False
    )
    outcome: dict[str, dict[int, float]] = {}
    for credit in found:
        day, source, medium = credit.key
        name = channel_key(source, medium, rules)
        if credit.model != model or name not in spend:
            continue
        got = credit.conversions if metric == "conversions" else credit.units / 100
        days = outcome.setdefault(name, {})
        days[int(day)] = days.get(int(day), 0.0) + got
    spent = [d for days in spend.values() for d in days]
    span = range(min(spent), max(spent) + 1) if spent else range(0)
    channels = []
    data = []
    for name in sorted(spend):
        xs, ys = budget.days_of(spend[name], outcome.get(name, {}), span)
        channels.append(Channel(name, xs, ys))
        data.append(Data(name, sum(xs), sum(ys), budget.variation(xs), channels[-1]))
    reasons = [f"{d.name}: {d.variation.reason}" for d in data if d.variation.reason]
    if len(channels) < 2:
        reasons.append("a reallocation needs at least two channels with spend")
    suggestion = None if reasons else await run(workers, budget.suggest, channels)
    return Plan(currency, others, model, metric, len(span), data, suggestion, reasons)
