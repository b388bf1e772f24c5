"""Reports: traffic, ad costs and conversions side by side, with KPIs, as tables and CSV.

Rows are keyed by report dimensions (source, medium, campaign, content, link). Traffic comes
from the links' UTM tags, spend from imported costs (which know source, medium and campaign
only: a table by content or link has no spend), conversions from the touch each was credited
to. Money is reported in one currency at a time; rows in other currencies are left out and
named, never added up. Calls to tracking numbers are counted by the call's own attribution
(its link and UTM tags, the day it started) by all of a table's dimensions at once: a call has
every report dimension, so channels (source and medium) count calls like a table by one. A
qualified call is also a conversion, so the conversion columns count it already.
"""

from __future__ import annotations

import csv
import io
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from firstmark.domain import attribution, csvcells
from firstmark.domain.dimensions import COSTED, DIMENSIONS, REPORT_CALL_COLUMNS
from firstmark.domain.kpis import KPI_NAMES, Totals, kpis, shown
from firstmark.errors import InvalidField

EPOCH = date(1970, 1, 1)
CENTS = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class TrafficTotal:
    key: tuple[Any, ...]
    hits: int
    bot_hits: int
    uniques: int
    clicks: int  # human clicks
    scans: int  # human scans


@dataclass(frozen=True, slots=True)
class VisitTotal:
    """Site visits by report dimensions (their entry's tags), bots excluded. `visitors` counts
    only visitors who did not arrive through a short link: those are the link's clickers
    already, so a visitor who clicked and then browsed counts once."""

    key: tuple[Any, ...]
    visits: int
    visitors: int


@dataclass(frozen=True, slots=True)
class ConversionTotal:
    key: tuple[Any, ...]
    currency: str | None
    conversions: int
    revenue: Decimal


@dataclass(frozen=True, slots=True)
class CostTotal:
    key: tuple[str, ...]  # values of the group_by columns, in order
    currency: str
    spend: Decimal
    impressions: int | None  # None when no row of the group had the figure
    clicks: int | None
    rows: int


@dataclass(frozen=True, slots=True)
class CallCount:
    key: tuple[Any, ...]
    calls: int
    answered: int
    qualified: int  # became a conversion


@dataclass(frozen=True, slots=True)
class Journey:
    """A conversion as attribution sees it: when, how much, and the touches before it. `credited`
    is the touch stored with the conversion (its link and UTM tags), used when no touch row
    exists (a backend conversion carrying a click token, say)."""

    conversion_id: int
    ts: float
    value: Decimal
    currency: str | None
    window_days: int
    touches: list[attribution.Step]
    credited: attribution.Step | None


@dataclass(frozen=True, slots=True)
class Credits:
    """One conversion's credits under every model, as stored for reports."""

    conversion_id: int
    ts: float
    currency: str | None
    rows: list[attribution.CreditRow]


@dataclass(frozen=True, slots=True)
class CreditTotal:
    key: tuple[Any, ...]
    model: str
    conversions: float
    units: int  # cents in the report's currency


@dataclass
class ReportRow:
    key: tuple[Any, ...]
    hits: int = 0
    bots: int = 0
    uniques: int = 0
    clicks: int = 0
    scans: int = 0
    impressions: int | None = None
    ad_clicks: int | None = None
    spend: Decimal | None = None
    conversions: Decimal = Decimal(0)
    revenue: Decimal = Decimal(0)
    visits: int = 0  # site visits (their entry's tags)
    site_visitors: int = 0  # site visitors who did not come through a short link
    calls: int | None = None  # None: the table cannot count calls (a dimension calls lack)
    answered_calls: int | None = None
    qualified_calls: int | None = None
    kpis: dict[str, Decimal | None] = field(default_factory=dict)

    @property
    def humans(self) -> int:
        return self.hits - self.bots

    @property
    def visitors(self) -> int:
        """Unique clickers and scanners of links, and site visitors who came another way."""
        return self.uniques + self.site_visitors

    def totals(self) -> Totals:
        return Totals(
            impressions=self.impressions or 0,
            # CTR and CPC count the platform's clicks when the cost export had them.
            clicks=self.ad_clicks if self.ad_clicks is not None else self.clicks + self.scans,
            visitors=self.visitors,
            conversions=self.conversions,
            revenue=self.revenue,
            spend=self.spend,
            qualified_calls=self.qualified_calls or 0,
        )

    def add_calls(self, calls: int, answered: int, qualified: int) -> None:
        self.calls = (self.calls or 0) + calls
        self.answered_calls = (self.answered_calls or 0) + answered
        self.qualified_calls = (self.qualified_calls or 0) + qualified


def parse_dimensions(raw: str) -> tuple[str, ...]:
    dims = tuple(d.strip() for d in raw.split(",") if d.strip())
    if not dims or len(set(dims)) != len(dims) or not set(dims) <= set(DIMENSIONS):
        raise InvalidField(
            "group_by", f"group_by takes one or more of {', '.join(DIMENSIONS)}, each once"
        )
    return dims


def call_group(dims: Sequence[str]) -> tuple[str, ...] | None:
    """The call_totals columns for a table by `dims`, in order; None when calls cannot be
    counted by them (no dimension, or one that calls do not have)."""
    if not dims or any(d not in REPORT_CALL_COLUMNS for d in dims):
        return None
    return tuple(REPORT_CALL_COLUMNS[d] for d in dims)


def call_key(dim: str, value: str | None) -> Any:
    """A call group's value as the report key of `dim`: link ids as numbers, days since the
    epoch, tags as they are."""
    if value is None:
        return None
    if dim == "link":
        return int(value)
    if dim == "day":
        return (date.fromisoformat(value) - EPOCH).days
    return value


def pick_currency(
    requested: str | None, costs: Iterable[CostTotal], conversions: Iterable[ConversionTotal]
) -> str | None:
    """The currency asked for, else the one with the most spend, else with most revenue."""
    if requested:
        return requested
    spend: dict[str, Decimal] = {}
    for cost in costs:
        spend[cost.currency] = spend.get(cost.currency, Decimal(0)) + cost.spend
    if spend:
        return max(sorted(spend), key=lambda c: spend[c])
    revenue: dict[str, Decimal] = {}
    for conv in conversions:
        if conv.currency:
            revenue[conv.currency] = revenue.get(conv.currency, Decimal(0)) + conv.revenue
    return max(sorted(revenue), key=lambda c: revenue[c]) if revenue else None


def other_currencies(
    currency: str | None, costs: Iterable[CostTotal], conversions: Iterable[ConversionTotal]
) -> list[str]:
    found = {c.currency for c in costs} | {c.currency for c in conversions if c.currency}
    return sorted(found - {currency} if currency else found)


def table(
    dims: Sequence[str],
    traffic: Iterable[TrafficTotal],
    conversions: Iterable[ConversionTotal],
    costs: Iterable[CostTotal],
    currency: str | None,
    calls: Iterable[CallCount] | None = None,
    visits: Iterable[VisitTotal] = (),
) -> list[ReportRow]:
    """One row per key seen in any source, KPIs filled in, busiest first. Conversions without
    a currency count, but bring no revenue. `calls` None: the table has no call columns."""
    rows: dict[tuple[Any, ...], ReportRow] = {}

    def row(key: tuple[Any, ...]) -> ReportRow:
        found = rows.get(key)
        if found is None:
            found = rows[key] = ReportRow(key)
        return found

    for t in traffic:
        r = row(t.key)
        r.hits += t.hits
        r.bots += t.bot_hits
        r.uniques += t.uniques
        r.clicks += t.clicks
        r.scans += t.scans
    for v in visits:
        r = row(v.key)
        r.visits += v.visits
        r.site_visitors += v.visitors
    for c in conversions:
        if c.currency not in (None, currency):
            continue
        r = row(c.key)
        r.conversions += c.conversions
        if c.currency == currency:
            r.revenue += c.revenue
    if set(dims) <= COSTED:
        costed_rows = [c for c in costs if c.currency == currency]
        for cost in costed_rows:
            r = row(cost.key)
            r.spend = (r.spend or Decimal(0)) + cost.spend
            if cost.impressions is not None:
                r.impressions = (r.impressions or 0) + cost.impressions
            if cost.clicks is not None:
                r.ad_clicks = (r.ad_clicks or 0) + cost.clicks
    if calls is not None:
        for r in rows.values():
            r.add_calls(0, 0, 0)
        for call in calls:
            row(call.key).add_calls(call.calls, call.answered, call.qualified)
    for r in rows.values():
        r.kpis = kpis(r.totals())
    return sorted(
        rows.values(),
        key=lambda r: (-(r.clicks + r.scans + r.visits), -r.revenue, -(r.spend or 0), str(r.key)),
    )


def total(rows: Iterable[ReportRow], *, calls: bool = False) -> ReportRow:
    """All rows added up, with the KPIs of the sum (not the average of the KPIs). `calls`: the
    table counts calls, so no rows at all still make 0 calls."""
    out = ReportRow(())
    if calls:
        out.add_calls(0, 0, 0)
    for r in rows:
        out.hits += r.hits
        out.bots += r.bots
        out.uniques += r.uniques
        out.clicks += r.clicks
        out.scans += r.scans
        out.visits += r.visits
        out.site_visitors += r.site_visitors
        out.conversions += r.conversions
        out.revenue += r.revenue
        if r.spend is not None:
            out.spend = (out.spend or Decimal(0)) + r.spend
        if r.impressions is not None:
            out.impressions = (out.impressions or 0) + r.impressions
        if r.ad_clicks is not None:
            out.ad_clicks = (out.ad_clicks or 0) + r.ad_clicks
        if r.calls is not None:
            out.add_calls(r.calls, r.answered_calls or 0, r.qualified_calls or 0)
    out.kpis = kpis(out.totals())
    return out


COLUMNS = (
    "hits", "humans", "bots", "uniques", "clicks", "scans", "visits", "visitors", "impressions",
    "ad_clicks", "spend",
    "conversions", "revenue", "calls", "answered_calls", "qualified_calls", *KPI_NAMES,
)  # fmt: skip


def _value(row: ReportRow, column: str) -> Any:
    if column in KPI_NAMES:
        return row.kpis.get(column)
    return getattr(row, column)


def key_json(dims: Sequence[str], key: Sequence[Any]) -> dict[str, Any]:
    """A row's key by dimension name; days as ISO dates."""
    return {
        d: (EPOCH + timedelta(days=int(v))).isoformat() if d == "day" and v is not None else v
        for d, v in zip(dims, key, strict=True)
    }


def to_json(row: ReportRow, dims: Sequence[str]) -> dict[str, Any]:
    """Numbers as numbers, money and KPIs as exact decimal strings, no value as null."""
    out: dict[str, Any] = key_json(dims, row.key)
    for column in COLUMNS:
        value = _value(row, column)
        out[column] = (
            str(value.normalize() if column == "conversions" else value)
            if isinstance(value, Decimal)
            else value
        )
    return out


def to_csv(rows: Iterable[ReportRow], dims: Sequence[str]) -> str:
    """The table as CSV; a value that does not exist reads "—"."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csvcells.row([*dims, *COLUMNS]))
    for row in rows:
        key = key_json(dims, row.key).values()
        writer.writerow(
            csvcells.row(
                [*("" if v is None else v for v in key), *(shown(_value(row, c)) for c in COLUMNS)]
            )
        )
    return buffer.getvalue()


# --- attribution, model by model --------------------------------------------------------


def model_comparison(
    journeys: Iterable[Journey],
    dims: Sequence[str],
    currency: str | None,
    *,
    half_life_days: float = attribution.DEFAULT_HALF_LIFE_DAYS,
) -> list[dict[str, Any]]:
    """Conversions and revenue credited to each key under each model, side by side. A journey
    without touch rows falls back to the touch its conversion was credited to."""
    # The store hands over each journey's touches inside the goal's window already; only
    # their order is made sure of here.
    by_time = operator.attrgetter("ts")
    conversions = [
        attribution.Conversion(
            j.ts,
            j.value if j.currency == currency else Decimal(0),
            sorted(j.touches, key=by_time) or ([j.credited] if j.credited else []),
        )
        for j in journeys
        if j.currency in (None, currency)
    ]
    tallies = attribution.compare(
        conversions, key=key_function(dims), half_life_days=half_life_days
    )
    out = []
    for key, by_model in tallies.items():
        assert isinstance(key, tuple)
        entry: dict[str, Any] = key_json(dims, key)
        for model in attribution.MODELS:
            tally = by_model.get(model)
            entry[model] = {
                "conversions": round(tally.conversions, 6) if tally else 0.0,
                "revenue": str(tally.value(CENTS) if tally else Decimal("0.00")),
            }
        out.append(entry)
    out.sort(key=lambda e: (-Decimal(e["last_non_direct"]["revenue"]), str(e)))
    return out


def credits_of(journeys: Iterable[Journey]) -> list[Credits]:
    """Each journey's credits under every model (default half-life), to be stored."""
    by_time = operator.attrgetter("ts")
    return [
        Credits(
            j.conversion_id,
            j.ts,
            j.currency,
            attribution.credit_rows(
                attribution.Conversion(
                    j.ts,
                    j.value,
                    sorted(j.touches, key=by_time) or ([j.credited] if j.credited else []),
                )
            ),
        )
        for j in journeys
    ]


def comparison_from_totals(
    totals: Iterable[CreditTotal], dims: Sequence[str]
) -> list[dict[str, Any]]:
    """model_comparison's answer from credits the database added up."""
    by_key: dict[tuple[Any, ...], dict[str, CreditTotal]] = {}
    for t in totals:
        by_key.setdefault(t.key, {})[t.model] = t
    out = []
    for key, by_model in by_key.items():
        entry: dict[str, Any] = key_json(dims, key)
        for model in attribution.MODELS:
            found = by_model.get(model)
            entry[model] = {
                "conversions": round(found.conversions, 6) if found else 0.0,
                "revenue": str(found.units * CENTS if found else Decimal("0.00")),
            }
        out.append(entry)
    out.sort(key=lambda e: (-Decimal(e["last_non_direct"]["revenue"]), str(e)))
    return out


def touch_key(touch: attribution.Visit, dims: Sequence[str]) -> tuple[Any, ...]:
    """The report row a touch's credit goes to; direct visits read "(direct) / (none)"."""
    return key_function(dims)(touch)


def _channel(touch: attribution.Visit) -> tuple[Any, ...]:
    if touch.direct:
        return attribution.DIRECT, attribution.NONE
    return touch.utm_source, touch.utm_medium


def key_function(dims: Sequence[str]) -> Callable[[attribution.Visit], tuple[Any, ...]]:
    """touch_key for fixed dimensions, built once: it runs for every touch of a report."""
    direct = {"source": attribution.DIRECT, "medium": attribution.NONE}
    for dim in dims:
        if dim not in DIMENSIONS:
            raise InvalidField("group_by", f"group_by takes {', '.join(DIMENSIONS)}")
    if tuple(dims) == ("source", "medium"):  # the attribution report's default, kept lean
        return _channel
    getters: dict[str, Callable[[Any], Any]] = {
        "source": operator.attrgetter("utm_source"),
        "medium": operator.attrgetter("utm_medium"),
        "campaign": operator.attrgetter("utm_campaign"),
        "content": operator.attrgetter("utm_content"),
        "link": operator.attrgetter("link_id"),
        "day": lambda t: int(t.ts // 86400),
    }
    picks = [(getters[d], direct.get(d)) for d in dims]

    def key(touch: attribution.Visit) -> tuple[Any, ...]:
        if touch.direct:
            return tuple(get(touch) if fixed is None else fixed for get, fixed in picks)
        return tuple(get(touch) for get, _ in picks)

    return key


def attribution_csv(
    entries: list[dict[str, Any]],
    dims: Sequence[str],
    models: Sequence[str] = attribution.MODELS,
) -> str:
    """The model comparison as CSV: each model's conversions and revenue side by side; a
    model without a number (data-driven below its minimum) reads "—"."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        csvcells.row([*dims, *(f"{m}_{k}" for m in models for k in ("conversions", "revenue"))])
    )
    for entry in entries:
        writer.writerow(
            csvcells.row(
                [
                    *("" if entry[d] is None else entry[d] for d in dims),
                    *(
                        shown(None) if entry[m][k] is None else entry[m][k]
                        for m in models
                        for k in ("conversions", "revenue")
                    ),
                ]
            )
        )
    return buffer.getvalue()
