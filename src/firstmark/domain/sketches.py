"""A link's visitors on one day, counted in bounded memory (ADR 0029).

A sketch holds the day's visitor hashes exactly (64 bits of the daily visitor hash) until it
has EXACT_MAX of them, then HyperLogLog registers: 2^14 one-byte registers, a standard error of
1.04/√16384 ≈ 0.8 %, estimated with Ertl's improved raw estimator ("New cardinality estimation
algorithms for HyperLogLog sketches", 2017), which is unbiased from one visitor to billions
without the bias tables of HyperLogLog++. Below EXACT_MAX (almost every link on almost every
day) uniques stay exact.

Uniques are stored as first visits in the rollups (per hour, per fact combination, per
variant), so a batch of clicks must say which of its visitors are new. While exact, a sketch
knows. Once estimating, it knows how many: the estimate's growth since the last batch, which
is handed to that many of the batch's distinct visitors, those that moved a register first (a
visitor seen before cannot move one). The day's total is then the estimate; how it splits
between hours and facts is the batch's share.
"""

from __future__ import annotations

import hashlib
import math
import sys
from array import array
from collections.abc import Callable, Sequence

P = 14
M = 1 << P
Q = 64 - P  # bits left for the rank
_LOW = (1 << Q) - 1
_BITS64 = (1 << 64) - 1
EXACT_MAX = 2048  # exact hashes, in at most 4,096 slots (32 KB); the registers take 16 KB
_FIRST_SLOTS = 16  # a power of two; the table doubles when half full
_ALPHA_INF = 1 / (2 * math.log(2))

Key = tuple[int, int, str]  # (link, day, visitor day hash)
DayKey = tuple[int, int]  # (link, day)


def hash64(visitor_day_hash: str) -> int:
    """64 uniform bits of a daily visitor hash: its first 16 hex digits (it is keyed by the
    day's salt already), or a digest of any other text."""
    if len(visitor_day_hash) >= 16:
        try:
            return int(visitor_day_hash[:16], 16) & _BITS64  # a sign would make it negative
        except ValueError:
            pass
    digest = hashlib.blake2b(visitor_day_hash.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class DaySketch:
    """The distinct visitors of one link on one day, and how many were credited as uniques.

    While exact, the hashes sit in an open-addressing table (an array of 64-bit slots, at most
    half full, 0 meaning empty): 8-16 bytes a visitor, where a Python set of ints takes about
    70 and a busy day holds a sketch per link."""

    __slots__ = ("counts", "credited", "registers", "size", "table")

    def __init__(self) -> None:
        self.table: array[int] | None = array("Q", bytes(8 * _FIRST_SLOTS))
        self.size = 0  # hashes in the table
        self.registers: bytearray | None = None
        self.counts: list[int] | None = None  # counts[k]: registers holding k
        self.credited = 0

    @property
    def estimating(self) -> bool:
        return self.table is None

    def hashes(self) -> list[int]:
        """The exact hashes (empty once estimating)."""
        return [h for h in self.table if h] if self.table is not None else []

    def add(self, h: int) -> bool:
        """Adds a visitor. True when it is new (exact), or moved a register (estimating)."""
        table = self.table
        if table is None:
            return self._raise(h)
        h = h or 1  # 0 marks an empty slot
        mask = len(table) - 1
        slot = h & mask
        while True:
            found = table[slot]
            if found == h:
                return False
            if not found:
                break
            slot = (slot + 1) & mask
        table[slot] = h
        self.size += 1
        if self.size > EXACT_MAX:
            self._to_registers()
        elif 2 * self.size > len(table):
            self._grow()
        return True

    def _grow(self) -> None:
        old = self.table
        assert old is not None
        table = self.table = array("Q", bytes(16 * len(old)))
        mask = len(table) - 1
        for h in old:
            if h:
                slot = h & mask
                while table[slot]:
                    slot = (slot + 1) & mask
                table[slot] = h

    def _raise(self, h: int) -> bool:
        registers, counts = self.registers, self.counts
        assert registers is not None and counts is not None
        index = h >> Q
        rank = Q + 1 - (h & _LOW).bit_length()
        old = registers[index]
        if rank <= old:
            return False
        registers[index] = rank
        counts[old] -= 1
        counts[rank] += 1
        return True

    def _to_registers(self) -> None:
        hashes = self.hashes()
        self.registers = bytearray(M)
        self.counts = [M] + [0] * (Q + 1)
        self.table = None
        self.size = 0
        for h in hashes:
            self._raise(h)

    def estimate(self) -> float:
        """Distinct visitors added: exact, or the registers' estimate."""
        if self.table is not None:
            return float(self.size)
        counts = self.counts
        assert counts is not None
        z = M * _tau(1 - counts[Q + 1] / M)
        for k in range(Q, 0, -1):
            z = 0.5 * (z + counts[k])
        z += M * _sigma(counts[0] / M)
        return _ALPHA_INF * M * M / z

    def merge(self, other: DaySketch) -> None:
        """Adds every visitor of `other` (a union; registers take the maximum)."""
        if other.table is not None:
            for h in other.hashes():
                self.add(h)
            return
        if self.table is not None:
            self._to_registers()
        mine, theirs, counts = self.registers, other.registers, self.counts
        assert mine is not None and theirs is not None and counts is not None
        for index, rank in enumerate(theirs):
            old = mine[index]
            if rank > old:
                mine[index] = rank
                counts[old] -= 1
                counts[rank] += 1

    def memory(self) -> int:
        """Roughly the bytes this sketch holds in memory."""
        if self.table is not None:
            return 200 + 8 * len(self.table)
        return 200 + M + 8 * (Q + 2)

    def to_bytes(self) -> bytes:
        """b"T" and the exact hashes' table as it is (8 bytes a slot, little-endian, 0 for an
        empty one: copied, not walked, as it is saved every few seconds), or b"H" and the
        registers."""
        if self.table is not None:
            table = self.table
            if sys.byteorder != "little":
                table = array("Q", table)
                table.byteswap()
            return b"T" + table.tobytes()
        assert self.registers is not None
        return b"H" + bytes(self.registers)

    @classmethod
    def from_bytes(cls, data: bytes, credited: int) -> DaySketch:
        """A saved sketch; ValueError for anything else."""
        sketch = cls()
        kind, body = data[:1], data[1:]
        slots = len(body) // 8
        if kind == b"T" and len(body) % 8 == 0 and slots >= _FIRST_SLOTS and not slots & slots - 1:
            table = array("Q")
            table.frombytes(body)
            if sys.byteorder != "little":
                table.byteswap()
            size = slots - table.count(0)
            if size > EXACT_MAX or 2 * size > slots:
                raise ValueError("not a visitor sketch")
            sketch.table, sketch.size = table, size
        elif kind == b"H" and len(body) == M and max(body, default=0) <= Q + 1:
            sketch.table = None
            sketch.registers = bytearray(body)
            sketch.counts = [body.count(rank) for rank in range(Q + 2)]
        else:
            raise ValueError("not a visitor sketch")
        sketch.credited = credited
        return sketch


def first_visits(keys: Sequence[Key], sketch_of: Callable[[DayKey], DaySketch]) -> set[Key]:
    """Which of a batch's distinct human visitor keys count as today's new uniques; each
    sketch learns its visitors and how many it credited."""
    first: set[Key] = set()
    estimating: dict[DayKey, list[tuple[bool, Key]]] = {}
    held: dict[DayKey, DaySketch] = {}  # each sketch asked for once per batch
    for key in keys:
        day_key = (key[0], key[1])
        sketch = held.get(day_key)
        if sketch is None:
            sketch = held[day_key] = sketch_of(day_key)
        h = hash64(key[2])
        if sketch.table is not None:
            if sketch.add(h):
                first.add(key)
                sketch.credited += 1
            continue
        moved = sketch.add(h)
        estimating.setdefault(day_key, []).append((moved, key))
    for day_key, seen in estimating.items():
        sketch = held[day_key]
        owed = round(sketch.estimate()) - sketch.credited
        if owed <= 0:
            continue
        # Stable: those that moved a register first, then the rest in the batch's order.
        chosen = [k for moved, k in seen if moved] + [k for moved, k in seen if not moved]
        chosen = chosen[:owed]
        first.update(chosen)
        sketch.credited += len(chosen)
    return first


def learn(sketch: DaySketch, hashes: Sequence[int]) -> None:
    """Adds visitors whose uniques were already credited (a replay after a restart)."""
    for h in hashes:
        if sketch.add(h) and sketch.table is not None:
            sketch.credited += 1
    if sketch.table is None:
        sketch.credited = max(sketch.credited, round(sketch.estimate()))


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y, z = 1.0, x
    while True:
        x *= x
        before = z
        z += x * y
        y += y
        if z == before:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y, z = 1.0, 1 - x
    while True:
        x = math.sqrt(x)
        before = z
        y *= 0.5
        z -= (1 - x) ** 2 * y
        if z == before:
            return z / 3
