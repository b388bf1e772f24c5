"""Store contract for ad costs: a re-import replaces its period, sums stay exact."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from firstmark.domain.costs import CostRow
from firstmark.errors import InvalidField
from firstmark.store import Store, epoch_day

NOV1, NOV2, NOV3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)


def row(day: date, spend: str, campaign: str = "spring", source: str = "google") -> CostRow:
    return CostRow(day, source, "cpc", campaign, Decimal(spend), "EUR", 1000, 10)


async def test_reimporting_a_period_replaces_it(any_store: Store) -> None:
    first = [row(NOV1, "10.10"), row(NOV2, "20.20"), row(NOV2, "5", source="bing")]
    assert await any_store.replace_costs(first) == (0, 3)

    # Google for Nov 2-3 again: Nov 2 replaced, Nov 1 kept, Bing untouched.
    assert await any_store.replace_costs([row(NOV2, "21.00"), row(NOV3, "0.005")]) == (1, 2)

    totals = await any_store.cost_totals(epoch_day(NOV1), epoch_day(NOV3), ["source"])
    assert [(t.key, t.currency, t.spend, t.impressions, t.clicks, t.rows) for t in totals] == [
        (("bing",), "EUR", Decimal("5.00"), 1000, 10, 1),
        (("google",), "EUR", Decimal("31.105"), 3000, 30, 3),
    ]


async def test_totals_by_campaign_and_day_range(any_store: Store) -> None:
    await any_store.replace_costs(
        [row(NOV1, "1", "a"), row(NOV2, "2", "a"), row(NOV2, "4", "b"), row(NOV3, "8", "b")]
    )
    totals = await any_store.cost_totals(epoch_day(NOV2), epoch_day(NOV2), ["campaign"])
    assert [(t.key, t.spend) for t in totals] == [
        (("a",), Decimal("2.00")),
        (("b",), Decimal("4.00")),
    ]
    everything = await any_store.cost_totals(epoch_day(NOV1), epoch_day(NOV3), [])
    assert [(t.key, t.spend, t.rows) for t in everything] == [((), Decimal("15.00"), 4)]


async def test_unknown_grouping_is_refused(any_store: Store) -> None:
    with pytest.raises(InvalidField) as err:
        await any_store.cost_totals(0, 1, ["spend; DROP TABLE costs"])
    assert err.value.field == "group_by"
