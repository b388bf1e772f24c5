"""Data-driven attribution: removal effects and Shapley values over counted paths, and
credits that add up to exactly the conversions and their value."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain import datadriven
from firstmark.domain.paths import ConvertingPath, LostPath, PathData
from firstmark.errors import InvalidField

EMAIL, SEARCH, SOCIAL = ("newsletter", "email"), ("google", "cpc"), ("facebook", "paid")

# The demo of docs/attribution.md.
DEMO = PathData(
    [ConvertingPath((EMAIL, SEARCH), 3, 200, 1_000_000), ConvertingPath((SEARCH,), 0, 20, 100_000)],
    [LostPath((EMAIL,), 200), LostPath((SEARCH,), 80)],
)


def test_removal_effects_of_the_worked_example() -> None:
    # Search converts 220 of the 300 times it is reached; e-mail leads to search half the
    # time. P(conversion) = 0.44; without e-mail 0.1467 (two thirds lost); without search 0.
    effects = datadriven.removal_effects(DEMO)
    assert effects[EMAIL] == pytest.approx(2 / 3)
    assert effects[SEARCH] == pytest.approx(1.0)


def test_each_journey_is_shared_by_the_weights_of_its_own_groups() -> None:
    model = datadriven.learn(DEMO)
    assert model.credits is not None and model.note is None
    # Each e-mail → search sale: 2/3 against 1, so 40 % and 60 %; search alone: all of it.
    assert model.credits[EMAIL].conversions == pytest.approx(80)
    assert model.credits[EMAIL].units == 400_000
    assert model.credits[SEARCH].conversions == pytest.approx(140)
    assert model.credits[SEARCH].units == 700_000
    assert (model.journeys, model.converting) == (500, 220)


def test_a_group_seen_only_on_journeys_that_did_not_convert_earns_nothing() -> None:
    data = PathData(DEMO.converting, [*DEMO.lost, LostPath((SOCIAL, EMAIL), 50)])
    model = datadriven.learn(data)
    assert model.credits is not None and SOCIAL not in model.credits


def test_loops_between_groups_still_converge() -> None:
    data = PathData(
        [ConvertingPath((EMAIL, SEARCH, EMAIL, SEARCH), 1, 150, 15_000)],
        [LostPath((SEARCH, EMAIL), 100), LostPath((EMAIL,), 30)],
    )
    # Search converts 150 of 400 times and goes back to e-mail otherwise; e-mail goes on to
    # search 300 of 430 times. P(conversion) = 0.5357; without e-mail only the 100 who start
    # with search convert, at 0.375: 0.1339, a quarter of it.
    effects = datadriven.removal_effects(data)
    assert effects[EMAIL] == pytest.approx(0.75) and effects[SEARCH] == pytest.approx(1.0)


def test_below_the_minimum_there_is_a_note_not_a_number() -> None:
    data = PathData([ConvertingPath((EMAIL,), 0, 99, 990)], [LostPath((SEARCH,), 1000)])
    model = datadriven.learn(data)
    assert model.credits is None and model.weight(EMAIL) is None
    assert model.note is not None and "at least 100" in model.note and "there are 99" in model.note


def test_shapley_values_add_up_to_the_rate_of_every_path() -> None:
    values = datadriven.shapley_values(DEMO)
    assert sum(values.values()) == pytest.approx(220 / 500)
    # Alone, e-mail converts nobody (0) and search 20 %; together 44 %.
    assert values[EMAIL] == pytest.approx(0.5 * 0 + 0.5 * (0.44 - 0.2))
    assert values[SEARCH] == pytest.approx(0.5 * 0.2 + 0.5 * (0.44 - 0))


def test_shapley_refuses_more_than_twelve_groups() -> None:
    many = PathData([ConvertingPath(tuple((f"s{n}",) for n in range(13)), 0, 200, 100)], [])
    with pytest.raises(InvalidField) as refused:
        datadriven.learn(many, datadriven.SHAPLEY)
    assert refused.value.field == "data_driven" and "13" in refused.value.message
    assert datadriven.learn(many, datadriven.MARKOV).credits is not None


def test_method_from_user_input() -> None:
    assert datadriven.method(None) == datadriven.method("") == "markov"
    assert datadriven.method("shapley") == "shapley"
    with pytest.raises(InvalidField):
        datadriven.method("magic")


GROUPS = st.sampled_from([EMAIL, SEARCH, SOCIAL, ("(direct)", "(none)"), ("print", "qr")])
STEPS = st.lists(GROUPS, min_size=1, max_size=7).map(tuple)
CONVERTING = st.builds(
    ConvertingPath, STEPS, st.integers(0, 40), st.integers(1, 60), st.integers(-(10**6), 10**9)
)
LOST = st.builds(LostPath, STEPS, st.integers(1, 500))


@given(
    st.lists(CONVERTING, min_size=1, max_size=12),
    st.lists(LOST, max_size=12),
    st.sampled_from(datadriven.METHODS),
)
def test_credits_sum_exactly_to_the_conversions_and_their_value(
    converting: list[ConvertingPath], lost: list[LostPath], how: str
) -> None:
    data = PathData(converting, lost)
    model = datadriven.learn(data, how, minimum=1)
    assert model.credits is not None
    assert sum(t.units for t in model.credits.values()) == sum(p.units for p in converting)
    assert math.isclose(
        sum(t.conversions for t in model.credits.values()), data.conversions, rel_tol=1e-9
    )
    on_converting_paths = {g for p in converting for g in p.steps}
    assert set(model.credits) <= on_converting_paths
    assert all(t.conversions >= 0 for t in model.credits.values())


def _effects_at_once(data: PathData) -> dict[tuple[str, ...], float]:
    chain = datadriven.chain(data)
    *_, inverse = datadriven.fundamental(chain)
    assert inverse is not None
    return datadriven.effects_from(chain, inverse, datadriven.solve(chain))


def test_one_inverse_gives_the_removal_effects_of_the_worked_example() -> None:
    effects = _effects_at_once(DEMO)
    assert effects[EMAIL] == pytest.approx(2 / 3) and effects[SEARCH] == pytest.approx(1.0)


@given(st.lists(CONVERTING, min_size=1, max_size=10), st.lists(LOST, max_size=10))
def test_one_inverse_and_one_solve_per_group_agree(
    converting: list[ConvertingPath], lost: list[LostPath]
) -> None:
    data = PathData(converting, lost)
    at_once, one_by_one = _effects_at_once(data), datadriven.removal_effects(data)
    assert at_once.keys() == one_by_one.keys()
    for group, effect in one_by_one.items():
        assert at_once[group] == pytest.approx(effect, abs=1e-9)
