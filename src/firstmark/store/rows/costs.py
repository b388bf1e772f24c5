"""Rows of imported ad costs: amounts stored as whole millionths, shared by the engines."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from firstmark.domain.costs import CostRow
from firstmark.domain.money import tidy
from firstmark.domain.reports import CostTotal
from firstmark.store.rows.values import epoch_day

MICROS = Decimal(1_000_000)


def cost_params(row: CostRow) -> tuple[Any, ...]:
    micros = (row.spend * MICROS).to_integral_value()
    return (
        epoch_day(row.day), row.source, row.medium, row.campaign, row.currency, int(micros),
        row.impressions, row.clicks,
    )  # fmt: skip


def from_micros(micros: int) -> Decimal:
    """Millionths back to an amount, with two decimals unless it has more (0.004 stays)."""
    return tidy(Decimal(micros).scaleb(-6))


def cost_total_from_row(row: Sequence[Any], keys: int) -> CostTotal:
    spend = (Decimal(int(row[keys + 1])) / MICROS).normalize()
    return CostTotal(
        key=tuple(row[:keys]),
        currency=row[keys],
        spend=spend.quantize(Decimal("0.01"))
        if spend == spend.quantize(Decimal("0.01"))
        else spend,
        impressions=None if row[keys + 2] is None else int(row[keys + 2]),
        clicks=None if row[keys + 3] is None else int(row[keys + 3]),
        rows=int(row[keys + 4]),
    )
