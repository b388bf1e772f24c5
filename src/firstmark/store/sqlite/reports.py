"""SQLite: the day of a conversion in reports (the reports are sql/reports.py)."""

from __future__ import annotations

from firstmark.store.rows.reports import report_dimensions
from firstmark.store.sql.reports import ReportSQL


class SQLiteReports(ReportSQL):
    dimensions = report_dimensions("CAST(c.ts / 86400 AS INTEGER)")
