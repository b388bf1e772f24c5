"""KPI alerts: a real drop is raised with the figures a person reads; noise stays silent."""

from __future__ import annotations

import math
import random

from firstmark.domain.kpialerts import Day, Subject, Thresholds, kpi_changes


def poisson(rng: random.Random, mean: float) -> int:
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, n, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        n += 1
        product *= rng.random()
    return n


def campaign(
    rng: random.Random, name: str, *, visits: float = 500, rate: float = 0.02, roas: float = 2.1,
    recent_factor: float = 1.0,
) -> Subject:  # fmt: skip
    """35 days of a campaign: Poisson visits, conversions at `rate`, order values spread
    around their mean, spend of 100 a day give or take 20 %. The last 7 days earn
    `recent_factor` times the revenue per order."""
    days = []
    for n in range(35):
        traffic = poisson(rng, visits)
        conversions = poisson(rng, traffic * rate)
        mean_order = roas * 100 / (visits * rate) * (recent_factor if n >= 28 else 1.0)
        revenue = sum(
            rng.lognormvariate(math.log(mean_order) - 0.18, 0.6) for _ in range(conversions)
        )
        days.append(Day(traffic, conversions, revenue, 100 * rng.uniform(0.8, 1.2)))
    visitors = [int(sum(d.traffic for d in part) * 0.8) for part in (days[:28], days[28:])]
    return Subject("campaign", name, days[:28], days[28:], visitors[0], visitors[1], "EUR")


def test_a_real_roas_drop_is_raised_with_its_numbers() -> None:
    rng = random.Random(42)
    subject = campaign(rng, "spring-sale", visits=2000, recent_factor=0.57)
    found = kpi_changes([subject])
    by_metric = {a.detail["metric"]: a for a in found}
    assert set(by_metric) == {"roas", "roi"}  # conversions and traffic did not move
    roas = by_metric["roas"]
    assert roas.subject == "campaign:spring-sale:roas"
    assert roas.detail["worse"] is True
    assert roas.detail["p"] < 0.01
    assert 0.50 < roas.detail["after"] / roas.detail["before"] < 0.65
    assert roas.message == (
        "Campaign 'spring-sale' ROAS 2.18 → 1.30 (\u221241 %) over 7 days vs the 28 days "
        "before, p < 0.01"
    )


def test_noise_stays_silent_over_200_seeds() -> None:
    rng = random.Random(2026)
    for _ in range(200):
        assert kpi_changes([campaign(rng, "steady"), campaign(rng, "big", visits=3000)]) == []


def test_traffic_that_halves_is_raised_and_the_mirror_rise_too() -> None:
    def channel(recent: int) -> Subject:
        return Subject("channel", "Paid Social", [Day(traffic=200)] * 28, [Day(traffic=recent)] * 7)

    (drop,) = kpi_changes([channel(100)])
    assert drop.message == (
        "Paid Social traffic a day 200.0 → 100.0 (\u221250 %) over 7 days vs the 28 days "
        "before, p < 0.001"
    )
    (rise,) = kpi_changes([channel(400)])
    assert rise.detail["worse"] is False and rise.detail["change"] == 1.0


def test_below_the_minimum_volume_or_change_nothing_is_raised() -> None:
    quiet = Subject("channel", "Email", [Day(traffic=3, conversions=1)] * 28, [Day()] * 7)
    assert kpi_changes([quiet]) == []  # 84 visits and 28 conversions in the baseline: too few
    small = Subject("channel", "Email", [Day(traffic=1000)] * 28, [Day(traffic=850)] * 7)
    assert kpi_changes([small]) == []  # -15 %: below the 20 % that counts
    assert kpi_changes([small], Thresholds(min_change=0.1)) != []


def test_rising_cpa_is_bad_news() -> None:
    def days(spend: float, n: int) -> list[Day]:
        return [Day(traffic=500, conversions=20 + i % 3, revenue=400.0 + i, spend=spend + i % 2)
                for i in range(n)]  # fmt: skip

    found = {a.detail["metric"]: a for a in kpi_changes([Subject("channel", "Paid Search",
             days(100, 28), days(200, 7), 14000, 3500, "EUR")])}  # fmt: skip
    assert found["cpa"].detail["worse"] is True
    assert "EUR → " in found["cpa"].message and "(+" in found["cpa"].message
    assert found["roas"].detail["worse"] is True
