"""PostgreSQL: the day of a conversion in reports (the reports are sql/reports.py)."""

from __future__ import annotations

from firstmark.store.rows.reports import report_dimensions
from firstmark.store.sql.reports import ReportSQL


class PostgresReports(ReportSQL):
    # floor: a cast to integer would round a conversion late in the day into the next one.
    dimensions = report_dimensions("floor(c.ts / 86400)::int")
