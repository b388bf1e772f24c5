"""Day sketches: exact below 2,048 visitors, then an estimate within a few per cent; a batch's
first visits add up to the day's count."""

from __future__ import annotations

import random

import pytest

from firstmark.domain.sketches import (
    EXACT_MAX,
    DayKey,
    DaySketch,
    M,
    first_visits,
    hash64,
    learn,
)


def visitors(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.getrandbits(96):024x}" for _ in range(n)]


def test_a_small_day_is_counted_exactly() -> None:
    sketch = DaySketch()
    names = visitors(EXACT_MAX)
    assert all(sketch.add(hash64(v)) for v in names)
    assert not any(sketch.add(hash64(v)) for v in names[:100])
    assert not sketch.estimating
    assert sketch.estimate() == EXACT_MAX


@pytest.mark.parametrize("n", [3_000, 20_000, 200_000])
def test_a_large_day_is_estimated_within_three_per_cent(n: int) -> None:
    sketch = DaySketch()
    for v in visitors(n, seed=n):
        sketch.add(hash64(v))
    assert sketch.estimating
    assert abs(sketch.estimate() - n) / n < 0.03


def test_sketches_round_trip_and_merge_as_a_union() -> None:
    a, b = DaySketch(), DaySketch()
    names = visitors(6_000)
    for v in names[:4_000]:
        a.add(hash64(v))
    for v in names[2_000:2_500]:
        b.add(hash64(v))
    b.credited = 500
    copy = DaySketch.from_bytes(b.to_bytes(), b.credited)
    assert (sorted(copy.hashes()), copy.credited) == (sorted(b.hashes()), 500)
    dense = DaySketch.from_bytes(a.to_bytes(), 7)
    assert dense.estimate() == a.estimate() and dense.credited == 7
    b.merge(a)  # exact merged with dense: the registers of both
    assert b.estimating and b.estimate() == a.estimate()
    for v in names[4_000:]:
        a.add(hash64(v))
    c = DaySketch()
    c.merge(a)
    assert c.estimate() == a.estimate()
    assert not copy.add(hash64(names[2_100])) and copy.add(hash64(names[5_999]))
    for damaged in (b"X123", b"T" + bytes(8 * 24), b"T" + b"\x01" * 8 * 16, b"H" + b"\x40" * M):
        with pytest.raises(ValueError):
            DaySketch.from_bytes(damaged, 0)


def test_hash64_takes_hex_digits_and_digests_other_text() -> None:
    assert hash64("00000000000000ff" + "0" * 8) == 255
    assert hash64("v1") != hash64("v2")
    assert 0 <= hash64("v1") < 2**64
    assert 0 <= hash64("-123456789abcdef0") < 2**64


def test_first_visits_in_batches_add_up_to_the_day() -> None:
    """Exact while small: each visitor once, in its first batch. Estimating: the batches'
    first visits add up to the estimate, never more than a batch's distinct visitors."""
    sketches: dict[DayKey, DaySketch] = {}

    def sketch_of(key: DayKey) -> DaySketch:
        return sketches.setdefault(key, DaySketch())

    names = visitors(30_000)
    total = 0
    for start in range(0, len(names), 500):
        batch = names[start : start + 500]
        keys = [(1, 20_000, v) for v in batch]
        if start:
            keys += [(1, 20_000, v) for v in names[:50]]  # returning visitors
        first = first_visits(keys, sketch_of)
        assert first <= set(keys)
        if start + 500 <= EXACT_MAX:
            assert first == {(1, 20_000, v) for v in batch}
        total += len(first)
    sketch = sketches[(1, 20_000)]
    assert total == sketch.credited == round(sketch.estimate())
    assert abs(total - 30_000) / 30_000 < 0.03


def test_learning_after_a_restart_credits_nothing_twice() -> None:
    sketch = DaySketch()
    first_visits([(1, 1, v) for v in visitors(10)], lambda _: sketch)
    learn(sketch, [hash64(v) for v in visitors(12)])
    assert sketch.credited == 12
    assert first_visits([(1, 1, v) for v in visitors(12)], lambda _: sketch) == set()
