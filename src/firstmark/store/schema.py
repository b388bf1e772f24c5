"""Numbered, forward-only SQL migrations in the package: migrations/<engine>/NNNN_name.sql."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def label(self) -> str:
        """How migrate and pending_migrations name it: 0001_initial."""
        return f"{self.version:04d}_{self.name}"


def load(engine: str) -> list[Migration]:
    folder = resources.files("firstmark.store").joinpath("migrations", engine)
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = NAME.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text()))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{engine} migrations are not numbered 1..n: {versions}")
    return found


def pending(engine: str, applied: set[int]) -> list[str]:
    """The labels of an engine's migrations not yet applied, in order."""
    return [m.label for m in load(engine) if m.version not in applied]
