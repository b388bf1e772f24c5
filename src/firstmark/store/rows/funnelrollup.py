"""Funnel reports' daily rollups (migration funnel_rollup), shared by the engines: when a
report may read them, a day's rows from its visits' step events, and the read.

A funnel within one visit, unfiltered, over whole UTC days reads the rollups; a funnel within
N days, a filter or a range cut inside a day reads the events as before. The answers are the
same: a visitor without consent is a daily hash (one day only), and a consented visitor is
counted at a step on the first day of the range they reached it, from `prev_day` (the last
earlier day they reached it), as the web rollups count visitors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from firstmark.domain.funnels import Funnel

DAY = 86_400
# What the event writer marks changed (web_dirty) for each day it writes visits of; a
# funnel report hands the site's marks to each of its funnels (funnel_dirty).
DIRTY_DIM = "funnels"

# A consented visitor's last day on which they reached each step (None: none yet).
Earlier = dict[str, list[int | None]]


def applies(funnel: Funnel, filters: Mapping[str, str], start: float, end: float) -> bool:
    return funnel.within == "visit" and not filters and not start % DAY and not end % DAY


def add_earlier(funnel: Funnel, last: Earlier, rows: Iterable[Sequence[Any]]) -> None:
    """Add kept (visitor, day, reached) rows of days before a rebuild to `last`."""
    for who, day, reached in rows:
        seen = last.setdefault(who, [None] * len(funnel.steps))
        for i in range(int(reached)):
            known = seen[i]
            seen[i] = int(day) if known is None else max(known, int(day))


def day_rows(
    funnel: Funnel, day: int, best: Mapping[str, tuple[int, bool]], last: Earlier
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The funnel_daily rows (funnel, day, step, prev_day, n) and funnel_visitors rows
    (funnel, day, visitor, reached) of the visitors of `day` (`best`: how far each got);
    `last` (holding the consented ones' earlier days) moves to `day`."""
    counts: Counter[tuple[int, int | None]] = Counter()
    people = []
    for who, (reached, consented) in best.items():
        if not reached:
            continue
        if not consented:
            for i in range(reached):
                counts[(i, None)] += 1
            continue
        people.append((funnel.id, day, who, reached))
        seen = last.setdefault(who, [None] * len(funnel.steps))
        for i in range(reached):
            counts[(i, seen[i])] += 1
            seen[i] = day
    daily = [(funnel.id, day, step, prev, n) for (step, prev), n in counts.items()]
    return daily, people


def counts_query(funnel_id: int, start: float, end: float) -> tuple[str, list[Any]]:
    """Visitors per step (0-based) over [start, end): each counted on their first day."""
    first = int(start // DAY)
    return (
        "SELECT step, sum(n) FROM funnel_daily WHERE funnel_id = ? AND day >= ? AND day < ? "
        "AND (prev_day IS NULL OR prev_day < ?) GROUP BY step",
        [funnel_id, first, int(end // DAY), first],
    )


def counts(funnel: Funnel, rows: Iterable[Sequence[Any]]) -> list[int]:
    got = {int(step): int(n) for step, n in rows}
    return [got.get(i, 0) for i in range(len(funnel.steps))]
