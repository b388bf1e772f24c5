"""firstmark: self-hosted, privacy-first, first-party tracking."""

from __future__ import annotations

__version__ = "0.1.0"
