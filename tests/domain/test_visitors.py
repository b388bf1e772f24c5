"""Salt rotation: one salt per UTC day, yesterday's kept for late hits, older ones forgotten."""

from __future__ import annotations

import pytest

from firstmark.domain import visitors


@pytest.mark.parametrize(
    ("ts", "day"),
    [(0.0, 0), (86_399.9, 0), (86_400.0, 1), (1_764_072_000.0, 20_417)],
)
def test_a_day_is_a_utc_day_since_the_epoch(ts: float, day: int) -> None:
    assert visitors.day_of(ts) == day


def test_today_and_yesterday_keep_their_salts() -> None:
    assert visitors.SALT_KEEP_DAYS == 2
    assert visitors.first_kept_day(100) == 99


@pytest.mark.parametrize(
    ("last_day", "day", "first_kept"),
    [
        (-1, 100, 99),  # the first salt a writer asks for: forget whatever is older
        (99, 100, 99),  # a new day
        (97, 100, 99),  # a new day after quiet ones
        (100, 100, None),  # the same day: nothing to forget
        (100, 99, None),  # a late hit for yesterday: nothing to forget
        (100, 90, None),  # a very late hit: nothing to forget either
    ],
)
def test_salts_are_forgotten_on_the_first_ask_of_a_new_day(
    last_day: int, day: int, first_kept: int | None
) -> None:
    assert visitors.forget_before(last_day, day) == first_kept


def test_only_salts_older_than_yesterday_are_forgotten() -> None:
    assert visitors.forgotten([97, 98, 99, 100], 100) == [97, 98]
    assert visitors.forgotten({100: b"", 99: b""}, 100) == []
    assert visitors.forgotten([], 100) == []
