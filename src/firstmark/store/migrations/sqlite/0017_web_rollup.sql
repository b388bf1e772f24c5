-- Web reports' daily rollups (store/rows/webrollup.py), derived from the visits table: a
-- report first rebuilds its dim's days the event writer marked in web_dirty (and every later
-- day, since a visitor's earlier days decide whether a later day counts them again), then
-- reads these instead of the visits. dim is a visits column ('' for all visits, 'page' for
-- the pages viewed), value its value; a dim "group|column" (a breakdown with one filter) also
-- keeps the filter column's value in filter.

CREATE TABLE web_dirty (
    site_id INTEGER NOT NULL,
    day     INTEGER NOT NULL,
    dim     TEXT    NOT NULL,
    PRIMARY KEY (site_id, dim, day)
);
-- Sums of a site's human visits started on one UTC day, by one column's value.
CREATE TABLE web_daily (
    site_id     INTEGER NOT NULL,
    day         INTEGER NOT NULL,
    dim         TEXT    NOT NULL,
    value       TEXT,
    filter      TEXT,
    visits      INTEGER NOT NULL,
    pageviews   INTEGER NOT NULL,
    bounces     INTEGER NOT NULL,
    duration    REAL NOT NULL,
    conversions INTEGER NOT NULL,
    revenue     REAL NOT NULL
);
CREATE INDEX web_daily_site_dim_day ON web_daily (site_id, dim, day);
-- Distinct visitors (converted = 0) and converting visitors (converted = 1) of a day and
-- value, by the last earlier day the same consented visitor had a visit with that value
-- (prev_day NULL: none, or a daily visitor hash, which never spans days). The visitors of
-- days [a, b) are sum(n) over those days with prev_day NULL or < a: each one counted once.
CREATE TABLE web_daily_visitors (
    site_id   INTEGER NOT NULL,
    day       INTEGER NOT NULL,
    dim       TEXT    NOT NULL,
    value     TEXT,
    filter    TEXT,
    prev_day  INTEGER,
    converted INTEGER NOT NULL,
    n         INTEGER NOT NULL
);
CREATE INDEX web_daily_visitors_site_dim_day ON web_daily_visitors (site_id, dim, day);
-- A visit's events, found from the visit (the pages rollup asks whether a visitor's earlier
-- visit viewed a page; the page filter asks the same of each visit).
CREATE INDEX events_visit ON events (site_id, visit_key, visit_started);
-- Existing visits: every site's days are rebuilt at its first report.
INSERT INTO web_dirty (site_id, day, dim)
SELECT DISTINCT v.site_id, v.day, d.dim FROM visits v CROSS JOIN (
    SELECT '' AS dim UNION ALL
    SELECT 'browser' AS dim UNION ALL
    SELECT 'campaign' AS dim UNION ALL
    SELECT 'channel' AS dim UNION ALL
    SELECT 'country' AS dim UNION ALL
    SELECT 'device_type' AS dim UNION ALL
    SELECT 'entry_path' AS dim UNION ALL
    SELECT 'exit_path' AS dim UNION ALL
    SELECT 'medium' AS dim UNION ALL
    SELECT 'os' AS dim UNION ALL
    SELECT 'referrer_host' AS dim UNION ALL
    SELECT 'source' AS dim UNION ALL
    SELECT 'page' AS dim
) d;
