"""Budget suggestions from stored costs and credits, on both engines: the curves fitted from
seeded days match the true ones, money moves toward the channel with the higher marginal
return, and steady spend is refused with the reason."""

from __future__ import annotations

import pytest

from firstmark.domain.budget import Curve
from firstmark.services import budget
from firstmark.services.reports import Window
from firstmark.store import Store
from insighttools import TODAY, seed_budget, spends

SEARCH = Curve(300.0, 3000.0)  # far from saturated: every euro still buys about as much
SOCIAL = Curve(150.0, 60.0)  # saturated above ~150 a day


def window(first: object) -> Window:
    return Window.of({"from": str(first), "to": TODAY.isoformat()})


async def test_the_fitted_curves_match_the_true_ones_and_money_moves_to_search(
    any_store: Store,
) -> None:
    first = await seed_budget(
        any_store,
        [
            ("google", "cpc", spends(40, seed=1), SEARCH.value),
            ("facebook", "paid_social", spends(40, seed=2), SOCIAL.value),
        ],
    )
    plan = await budget.plan(any_store, window(first), None, "linear", "revenue", [], None)
    assert plan.reasons == [] and plan.suggestion is not None
    assert plan.currency == "EUR" and plan.days == 40
    found = {a.name: a for a in plan.suggestion.channels}
    assert set(found) == {"Paid Search", "Paid Social"}
    search, social = found["Paid Search"], found["Paid Social"]
    for advice, truth in ((search, SEARCH), (social, SOCIAL)):
        for x in (100.0, 250.0, 380.0):
            assert advice.fit.curve.value(x) == pytest.approx(truth.value(x), rel=0.02)
        assert advice.marginal == pytest.approx(truth.marginal(advice.current), rel=0.2)
    assert search.suggested > search.current and social.suggested < social.current
    assert plan.suggestion.suggested_return > plan.suggestion.current_return
    assert plan.suggestion.gain_interval.low > 0


async def test_steady_spend_is_refused_with_the_reason(any_store: Store) -> None:
    first = await seed_budget(
        any_store,
        [
            ("google", "cpc", spends(30, seed=3), SEARCH.value),
            ("facebook", "paid_social", [200.0] * 30, SOCIAL.value),
        ],
    )
    plan = await budget.plan(any_store, window(first), None, "linear", "conversions", [], None)
    assert plan.suggestion is None
    assert len(plan.reasons) == 1 and plan.reasons[0].startswith("Paid Social: 1 distinct")
    social = next(d for d in plan.data if d.name == "Paid Social")
    assert social.outcome == pytest.approx(30.0)  # 30 conversions credited to it
    # Without the steady channel there is only one left: still no reallocation.
    alone = await budget.plan(
        any_store, window(first), None, "linear", "revenue", ["Paid Search"], None
    )
    assert alone.suggestion is None
    assert alone.reasons == ["a reallocation needs at least two channels with spend"]
