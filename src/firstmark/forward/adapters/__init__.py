"""One module per ad platform: pure request builders and response classifiers."""

from __future__ import annotations

from firstmark.forward.adapters import (
    ga4,
    google_ads,
    linkedin,
    meta,
    microsoft,
    pinterest,
    reddit,
    snapchat,
    tiktok,
)
from firstmark.forward.adapters.base import Adapter

# mypy checks each module against the Adapter protocol where it is listed here.
_ALL: list[Adapter] = [
    meta,
    google_ads,
    ga4,
    tiktok,
    linkedin,
    microsoft,
    pinterest,
    snapchat,
    reddit,
]
ADAPTERS: dict[str, Adapter] = {adapter.PLATFORM: adapter for adapter in _ALL}
