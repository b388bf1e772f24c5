"""Hits as rows: their fact combinations (hit_dims), the visitors first seen, and what a batch
adds to the rollups; shared by the engines, whose bulk paths differ."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypeVar

from firstmark.domain.hits import Hit

# The derived facts of a hit (everything but link, time, kind and visitor) are few distinct
# combinations: they are stored once in hit_dims and each hit row points at them.
DIM_COLUMNS = (
    "country", "region", "city", "device_type", "os", "browser", "referrer_host", "is_bot",
    "bot_reason", "lang",
)  # fmt: skip
Dims = tuple[Any, ...]  # values in DIM_COLUMNS order


# The facts of a hit: the fields after the visitor hash, in DIM_COLUMNS order. An itemgetter
# (C) rather than a function: it runs for every click.
dims_of = itemgetter(slice(4, 14))


def dims_key(dims: Dims) -> str:
    """One text value naming a combination, for the UNIQUE lookup (NULL-safe, unlike a
    multi-column UNIQUE)."""
    return "\x1f".join("" if v is None else str(int(v)) if isinstance(v, bool) else v for v in dims)


Counts = list[int]  # [hits, bot_hits, uniques]


@dataclass
class Deltas:
    """What one batch adds to the rollups."""

    hourly: dict[tuple[int, int, str], Counts]  # (link, hour, kind)
    daily: dict[tuple[int, int, str, int], Counts]  # (link, day, kind, dims id)
    variants: dict[tuple[int, int, int], Counts]  # (link, day, variant): split links' hits

    def size(self) -> int:
        """Rows these increments touch in the hourly, daily and variant rollups."""
        return len(self.hourly) + len(self.daily) + len(self.variants)

    def per_day(self) -> dict[tuple[int, int, str], Counts]:
        """(link, day, kind) → counts, added up from the hours: what reports read."""
        return _sum_counts(
            ((link, hour // 86400, kind), c) for (link, hour, kind), c in self.hourly.items()
        )

    def all_links_per_day(self) -> dict[tuple[int, str], Counts]:
        """(day, kind) → counts over every link: the overview's series."""
        hours = self.hourly.items()
        return _sum_counts(((hour // 86400, kind), c) for (_, hour, kind), c in hours)


K = TypeVar("K")


def _sum_counts(items: Iterable[tuple[K, Counts]]) -> dict[K, Counts]:
    out: dict[K, Counts] = {}
    for key, counts in items:
        found = out.get(key)
        if found is None:
            out[key] = list(counts)
        else:
            found[0] += counts[0]
            found[1] += counts[1]
            found[2] += counts[2]
    return out


def unique_flags(hits: Sequence[Hit], first_seen: set[tuple[int, int, str]]) -> list[bool]:
    """Which hits count as a unique: for each (link, day, hash) key new today, the first
    human hit of the batch with it. Stored with the hit (hits.first_visit), so the rollups
    can be summed again from the hit rows alone."""
    if not first_seen:
        return [False] * len(hits)
    pending = set(first_seen)
    flags: list[bool] = []
    append = flags.append
    for hit in hits:
        if pending and not hit[11]:
            key = (hit[0], int(hit[1] // 86400), hit[3])
            if key in pending:
                pending.discard(key)
                append(True)
                continue
        append(False)
    return flags


def rollup_deltas(
    hits: Sequence[Hit],
    dims_ids: Sequence[int],
    uniques: Sequence[bool],
    into: Deltas | None = None,
) -> Deltas:
    """Increments for a batch, added to `into` when given (rollups held between writes).
    `uniques` tells which hits count as a unique (unique_flags): in the hour, and with the
    facts, of that hit. One pass, plain lists: this runs for every click."""
    deltas = into if into is not None else Deltas({}, {}, {})
    hourly, daily, variants = deltas.hourly, deltas.daily, deltas.variants
    for hit, dims_id, unique in zip(hits, dims_ids, uniques, strict=True):
        link_id, ts, kind = hit[0], hit[1], hit[2]
        day = int(ts // 86400)
        hour_key = (link_id, int(ts // 3600) * 3600, kind)
        per_hour = hourly.get(hour_key)
        if per_hour is None:
            per_hour = hourly[hour_key] = [0, 0, 0]
        day_key = (link_id, day, kind, dims_id)
        per_day = daily.get(day_key)
        if per_day is None:
            per_day = daily[day_key] = [0, 0, 0]
        per_variant = None
        variant = hit[14]
        if variant is not None:
            variant_key = (link_id, day, variant)
            per_variant = variants.get(variant_key)
            if per_variant is None:
                per_variant = variants[variant_key] = [0, 0, 0]
            per_variant[0] += 1
        per_hour[0] += 1
        per_day[0] += 1
        if hit[11]:
            per_hour[1] += 1
            per_day[1] += 1
            if per_variant is not None:
                per_variant[1] += 1
        elif unique:
            per_hour[2] += 1
            per_day[2] += 1
            if per_variant is not None:  # a visitor keeps one variant all day
                per_variant[2] += 1
    return deltas


def visitor_keys(hits: Sequence[Hit]) -> list[tuple[int, int, str]]:
    """Distinct (link, day, hash) of the human hits in a batch, in order of first appearance."""
    seen: dict[tuple[int, int, str], None] = {}
    for hit in hits:
        if not hit.is_bot:
            seen.setdefault((hit.link_id, int(hit.ts // 86400), hit.visitor_day_hash), None)
    return list(seen)


# Visitor keys (link, day, hash) remembered as already counted today: about 15 MB at most.
SEEN_VISITORS = 100_000


class HitMemory:
    """Per-process memory that saves round trips: fact combination ids and the visitors
    already stored today. Both are filled only after a commit (`stored`)."""

    def __init__(self) -> None:
        self.dims: dict[Dims, int] = {}
        self.seen: set[tuple[int, int, str]] = set()
        self.seen_day = -1

    def unseen(self, hits: Sequence[Hit]) -> list[tuple[int, int, str]]:
        """visitor_keys of a batch but those this process has already stored today."""
        seen = self.seen
        return [k for k in visitor_keys(hits) if k not in seen]

    def missing(self, hits: Sequence[Hit]) -> dict[str, Dims]:
        """The batch's fact combinations without a known id, by dims_key in key order (rows
        that take locks go in one order, so two writers cannot deadlock)."""
        dims = self.dims
        missing = [d for d in set(map(dims_of, hits)) if d not in dims]
        return dict(sorted((dims_key(d), d) for d in missing))

    def ids(self, hits: Sequence[Hit], new_dims: dict[Dims, int]) -> list[int]:
        """Each hit's fact combination id, known or just stored."""
        known = {**self.dims, **new_dims} if new_dims else self.dims
        return list(map(known.__getitem__, map(dims_of, hits)))

    def stored(self, new_dims: dict[Dims, int], keys: list[tuple[int, int, str]]) -> None:
        """After a commit: remember the new combinations and today's stored visitor keys
        (bounded; older days are dropped)."""
        self.dims.update(new_dims)
        if not keys:
            return
        newest = max(k[1] for k in keys)
        if newest > self.seen_day or len(self.seen) + len(keys) > SEEN_VISITORS:
            self.seen_day = max(newest, self.seen_day)
            self.seen = {k for k in self.seen if k[1] == self.seen_day}
            if len(self.seen) + len(keys) > SEEN_VISITORS:
                self.seen.clear()
        self.seen.update(k for k in keys if k[1] == self.seen_day)
