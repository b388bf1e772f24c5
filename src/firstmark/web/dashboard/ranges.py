"""The date-range presets of the report pages: links to the same page with another range,
keeping every other part of the query (currency, columns, filters), so they work without
JavaScript and the range stays in the URL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from firstmark.domain import periods
from firstmark.domain.stats import Range
from firstmark.web.dashboard.views import Ctx


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    href: str
    current: bool


def choices(ctx: Ctx, dates: dict[str, str], path: str | None = None) -> list[Choice]:
    """One link per preset to `path` (this page by default; a form's POST renders the page
    it came from); the one matching the range shown is marked current."""
    today = datetime.now(UTC).date()
    kept = [(k, v) for k, v in ctx.request.query_params.multi_items() if k not in ("from", "to")]
    path = path or ctx.request.url.path
    return [
        Choice(p.label, f"{path}?{urlencode([*p.dates.items(), *kept])}", p.dates == dates)
        for p in periods.presets(today)
    ]


def compared(span: Range) -> dict[str, Any]:
    """What the pages say about the period a change is measured against."""
    before = periods.previous(span)
    return {
        "days": (span.end - span.start).days,
        "previous": {
            "from": before.start.date().isoformat(),
            "to": (before.end - timedelta(days=1)).date().isoformat(),
        },
    }


def carried(dates: dict[str, str]) -> str:
    """The range as a query string, for links to the other report pages."""
    return urlencode({"from": dates["from"], "to": dates["to"]})
