"""The paths report over counted paths: top converting paths and their rates, lengths and
days to conversion, assisted against last-touch conversions."""

from __future__ import annotations

from firstmark.domain import paths
from firstmark.domain.paths import ConvertingPath, LostPath, PathData

EMAIL, SEARCH = ("newsletter", "email"), ("google", "cpc")


def test_repeats_are_one_step_but_every_touch_counts_in_the_length() -> None:
    data = PathData(
        [
            ConvertingPath((EMAIL, EMAIL, SEARCH), 5, 3, 300),
            ConvertingPath((EMAIL, SEARCH), 1, 1, 100),
            ConvertingPath((SEARCH,), 0, 3, 300),
        ],
        [LostPath((EMAIL, SEARCH, SEARCH), 4), LostPath((SEARCH,), 27)],
    )
    found = paths.report(data)
    assert [(r.steps, r.conversions, r.journeys) for r in found.top] == [
        ((EMAIL, SEARCH), 4, 8),
        ((SEARCH,), 3, 30),
    ]
    assert found.top[0].rate == 0.5 and found.top[1].rate == 0.1
    assert found.lengths.counts == {3: 3, 2: 1, 1: 3} and found.lengths.median() == 2.0
    assert found.days.counts == {5: 3, 1: 1, 0: 3} and found.days.median() == 1.0
    assert found.assists[EMAIL].last == 0 and found.assists[EMAIL].assisted == 4
    assert found.assists[EMAIL].ratio is None
    assert found.assists[SEARCH].last == 7 and found.assists[SEARCH].ratio == 0.0
    body = paths.to_json(found, ("source", "medium"))
    assert body["paths"][0]["path"] == "newsletter / email → google / cpc"
    assert body["assisted"][0]["group"] == "google / cpc"
    assert paths.to_csv(body, "days", ("source", "medium")).splitlines() == [
        "days,conversions,revenue",
        "0,3,3.00",
        "1,1,1.00",
        "5,3,3.00",
    ]


def test_labels_of_links_days_and_missing_values() -> None:
    assert paths.step_label((12, None), ("link", "campaign")) == "#12 / (none)"
    assert paths.step_label((20_000,), ("day",)) == "2024-10-04"
    assert paths.collapse(("a", "a", "b", "a")) == ("a", "b", "a")
