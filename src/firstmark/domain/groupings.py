"""Reports by channel: the `channel` report dimension on top of the stored ones.

Nothing stores a report row's channel: links, costs, calls and attribution credits keep source
and medium, and the channel is a function of them (domain/channels.py) and of the operator's
rules, which may change at any time. So a report by channel is asked of the store by source
and medium, and its rows are then added up by the channel those give (`collapse_rows`,
`collapse_comparison`). Every other dimension passes through.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from firstmark.domain import attribution, channels, reports
from firstmark.domain.channels import Origin, Rule
from firstmark.domain.dimensions import DIMENSIONS, TABLES
from firstmark.errors import InvalidField

CHANNEL = "channel"
ALL_DIMENSIONS = (CHANNEL, *DIMENSIONS)
# The report tables of /api/v1/reports/{name}: the stored ones, and one by channel.
REPORT_TABLES = {**TABLES, "channel-groups": (CHANNEL,)}


def parse_dimensions(raw: str) -> tuple[str, ...]:
    """`group_by` from user input: report dimensions, `channel` among them, each once."""
    dims = tuple(d.strip() for d in raw.split(",") if d.strip())
    if not dims or len(set(dims)) != len(dims) or not set(dims) <= set(ALL_DIMENSIONS):
        raise InvalidField(
            "group_by", f"group_by takes one or more of {', '.join(ALL_DIMENSIONS)}, each once"
        )
    return dims


def query_dimensions(dims: Sequence[str]) -> tuple[str, ...]:
    """What the store is asked for: `channel` becomes source and medium."""
    out: list[str] = []
    for dim in dims:
        for asked in ("source", "medium") if dim == CHANNEL else (dim,):
            if asked not in out:
                out.append(asked)
    return tuple(out)


def channel_key(source: Any, medium: Any, rules: Sequence[Rule] = ()) -> str:
    """The channel of a report row's source and medium ("(direct)" reads Direct)."""
    return channels.channel_of(Origin(source, medium), rules)


def regroup(
    key: Sequence[Any], dims: Sequence[str], asked: Sequence[str], rules: Sequence[Rule]
) -> tuple[Any, ...]:
    """A key by the asked dimensions → the key by `dims`."""
    values = dict(zip(asked, key, strict=True))
    return tuple(
        channel_key(values["source"], values["medium"], rules) if d == CHANNEL else values[d]
        for d in dims
    )


def collapse_rows(
    rows: Iterable[reports.ReportRow],
    dims: Sequence[str],
    asked: Sequence[str],
    rules: Sequence[Rule] = (),
    *,
    calls: bool = False,
) -> list[reports.ReportRow]:
    """Report rows by the asked dimensions added up by `dims` (KPIs of the sums), busiest
    first."""
    groups: dict[tuple[Any, ...], list[reports.ReportRow]] = {}
    for row in rows:
        groups.setdefault(regroup(row.key, dims, asked, rules), []).append(row)
    out = []
    for key, members in groups.items():
        summed = reports.total(members, calls=calls)
        summed.key = key
        if not any(m.spend is not None for m in members):
            summed.spend = None
        out.append(summed)
    return sorted(
        out,
        key=lambda r: (-(r.clicks + r.scans + r.visits), -r.revenue, -(r.spend or 0), str(r.key)),
    )


def collapse_comparison(
    entries: Iterable[dict[str, Any]],
    dims: Sequence[str],
    asked: Sequence[str],
    rules: Sequence[Rule] = (),
) -> list[dict[str, Any]]:
    """The model comparison by the asked dimensions added up by `dims`."""
    sums: dict[tuple[Any, ...], dict[str, list[Any]]] = {}
    for entry in entries:
        key = regroup([entry[d] for d in asked], dims, asked, rules)
        found = sums.setdefault(key, {m: [0.0, Decimal(0)] for m in attribution.MODELS})
        for model in attribution.MODELS:
            found[model][0] += entry[model]["conversions"]
            found[model][1] += Decimal(entry[model]["revenue"])
    out = []
    for key, by_model in sums.items():
        entry = dict(zip(dims, key, strict=True))
        for model in attribution.MODELS:
            conversions, revenue = by_model[model]
            entry[model] = {"conversions": round(conversions, 6), "revenue": str(revenue)}
        out.append(entry)
    out.sort(key=lambda e: (-Decimal(e["last_non_direct"]["revenue"]), str(e)))
    return out
