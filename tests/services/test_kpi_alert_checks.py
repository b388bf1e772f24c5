"""KPI alerts from stored figures: a campaign whose conversions and ROAS fell is raised once,
named with its channel, and left standing between the daily checks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from firstmark.config import Settings
from firstmark.domain.consent import Consent
from firstmark.domain.conversions import Conversion
from firstmark.domain.costs import CostRow
from firstmark.domain.goals import Goal
from firstmark.services import alerts
from firstmark.store import Store

DAY = 86_400.0
NOW = 20_500 * DAY + 8 * 3600.0  # 08:00 UTC
FULL = Consent(analytics=True, ad_storage=True, ad_user_data=True, ad_personalization=False)


async def seed(store: Store) -> None:
    """35 days of a paid-search campaign: 6 conversions of 50 EUR a day on 100 EUR of spend,
    then, over the last 7 days, 2 a day."""
    goal = await store.insert_goal(Goal("purchase"))
    assert goal.id is not None
    today = int(NOW // DAY)
    conversions, costs = [], []
    for back in range(1, 36):
        day = today - back
        for n in range(6 if back > 7 else 2):
            conversions.append(
                Conversion(
                    f"c{day}-{n}", goal.id, day * DAY + 3600 * (n + 1), FULL, "server",
                    value=50.0, currency="EUR", utm_source="google", utm_medium="cpc",
                    utm_campaign="spring",
                )
            )  # fmt: skip
        when = date(1970, 1, 1) + timedelta(days=day)
        costs.append(CostRow(when, "google", "cpc", "spring", Decimal("100.00"), "EUR"))
    await store.insert_conversions(conversions)
    await store.replace_costs(costs)


async def test_a_seeded_drop_is_raised_once(any_store: Store, settings: Settings) -> None:
    await seed(any_store)
    raised = await alerts.check(any_store, settings, NOW)
    kpis = {a.subject: a for a in raised if a.kind == "kpi.changed"}
    assert set(kpis) == {
        "campaign:spring:conversions", "campaign:spring:roas", "campaign:spring:roi",
        "campaign:spring:cpa", "channel:Paid Search:conversions", "channel:Paid Search:roas",
        "channel:Paid Search:roi", "channel:Paid Search:cpa",
    }  # fmt: skip
    assert kpis["campaign:spring:roas"].message == (
        "Campaign 'spring' ROAS 3.00 → 1.00 (\u221267 %) over 7 days vs the 28 days before, "
        "p < 0.001"
    )
    assert kpis["channel:Paid Search:cpa"].message.startswith(
        "Paid Search CPA 16.67 EUR → 50.00 EUR (+200 %)"
    )
    assert await alerts.check(any_store, settings, NOW + 300) == []  # standing: not again
    # Between daily checks, a round without the KPI checks neither raises nor resolves them.
    assert await alerts.check(any_store, settings, NOW + 600, kpis=False) == []
    standing = await any_store.list_alerts(open_only=True, limit=100)
    assert len([a for a in standing if a.kind == "kpi.changed"]) == 8


def test_the_kpi_checks_wait_for_their_hour(settings: Settings) -> None:
    assert alerts.kpi_day(settings, 20_500 * DAY + 5 * 3600) is None  # before 06:00 UTC
    assert alerts.kpi_day(settings, 20_500 * DAY + 6 * 3600) == 20_500
