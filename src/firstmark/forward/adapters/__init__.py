"""One module per ad platform: pure request builders and response classifiers."""

from __future__ import annotations

from types import ModuleType

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

ADAPTERS: dict[str, ModuleType] = {
    module.PLATFORM: module
    for module in (meta, google_ads, ga4, tiktok, linkedin, microsoft, pinterest, snapchat, reddit)
}
