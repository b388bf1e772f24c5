"""The report vocabulary: what hits, links, calls, costs and report tables can be broken down,
grouped and filtered by. One list each, shared by the API, the dashboard, the CLI and the store,
so a name accepted at the edge is always a column the store knows."""

from __future__ import annotations

# --- hits and links ---------------------------------------------------------------------------

# Columns a link's hits break down by (GET /api/v1/links/{id}/stats?breakdown=…).
BREAKDOWNS = ("country", "city", "device_type", "os", "browser", "referrer_host", "lang")
# The names the API and the dashboard use for them.
BREAKDOWN_NAMES = {
    "country": "country",
    "city": "city",
    "device": "device_type",
    "os": "os",
    "browser": "browser",
    "referrer": "referrer_host",
    "language": "lang",
}
# A QR code's scan report: name → hit column.
SCAN_BREAKDOWNS = {"country": "country", "city": "city", "device": "device_type", "os": "os"}
# What links are grouped by in the stats API and the dashboard overview.
LINK_GROUPS = ("utm_source", "utm_medium", "utm_campaign", "campaign", "tag")
# What a list of links is filtered by.
LINK_FILTERS = ("domain", "campaign", "utm_source", "utm_medium", "utm_campaign", "tag", "kind")

# --- calls and costs --------------------------------------------------------------------------

# Columns calls can be counted by (Store.call_totals).
CALL_GROUP_COLUMNS = (
    "campaign", "utm_source", "utm_medium", "utm_campaign", "utm_content", "link_id", "number_id",
    "channel", "day",
)  # fmt: skip
# Columns imported costs can be summed by.
COST_GROUPS = ("source", "medium", "campaign", "day")

# --- report tables ----------------------------------------------------------------------------

DIMENSIONS = ("source", "medium", "campaign", "content", "link", "day")
COSTED = frozenset({"source", "medium", "campaign", "day"})  # what imported costs know
# The CALL_GROUP_COLUMNS column of each report dimension: a call's tags are its link's or its
# session's. Every report dimension has one; a dimension added without one makes its tables
# count no calls.
REPORT_CALL_COLUMNS = {
    "source": "utm_source",
    "medium": "utm_medium",
    "campaign": "utm_campaign",
    "content": "utm_content",
    "link": "link_id",
    "day": "day",
}
# The named report tables and the dimensions each is grouped by.
TABLES = {
    "channels": ("source", "medium"),
    "sources": ("source",),
    "mediums": ("medium",),
    "campaigns": ("campaign",),
    "contents": ("content",),
    "links": ("link",),
    "days": ("day",),
}

assert set(BREAKDOWN_NAMES.values()) == set(BREAKDOWNS)
assert set(SCAN_BREAKDOWNS.values()) <= set(BREAKDOWNS)
assert set(REPORT_CALL_COLUMNS) == set(DIMENSIONS)
assert set(REPORT_CALL_COLUMNS.values()) <= set(CALL_GROUP_COLUMNS)
