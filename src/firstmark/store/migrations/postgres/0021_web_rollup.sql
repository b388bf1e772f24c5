-- Web reports' daily rollups (store/rows/webrollup.py), derived from the visits table: a
-- report first rebuilds its dim's days the event writer marked in web_dirty (and every later
-- day, since a visitor's earlier days decide whether a later day counts them again), then
-- reads these instead of the visits. dim is a visits column ('' for all visits, 'page' for
-- the pages viewed), value its value; a dim "group|column" (a breakdown with one filter) also
-- keeps the filter column's value in filter.

CREATE TABLE web_dirty (
    site_id BIGINT NOT NULL,
    day     INTEGER NOT NULL,
    dim     TEXT    NOT NULL,
    PRIMARY KEY (site_id, dim, day)
);
-- Sums of a site's human visits started on one UTC day, by one column's value.
CREATE TABLE web_daily (
    site_id     BIGINT NOT NULL,
    day         INTEGER NOT NULL,
    dim         TEXT    NOT NULL,
    value       TEXT,
    filter      TEXT,
    visits      BIGINT NOT NULL,
    pageviews   BIGINT NOT NULL,
    bounces     BIGINT NOT NULL,
    duration    DOUBLE PRECISION NOT NULL,
    conversions BIGINT NOT NULL,
    revenue     DOUBLE PRECISION NOT NULL
);
CREATE INDEX web_daily_site_dim_day ON web_daily (site_id, dim, day);
-- Distinct visitors (converted = 0) and converting visitors (converted = 1) of a day and
-- value, by the last earlier day the same consented visitor had a visit with that value
-- (prev_day NULL: none, or a daily visitor hash, which never spans days). The visitors of
-- days [a, b) are sum(n) over those days with prev_day NULL or < a: each one counted once.
CREATE TABLE web_daily_visitors (
    site_id   BIGINT NOT NULL,
    day       INTEGER NOT NULL,
    dim       TEXT    NOT NULL,
    value     TEXT,
    filter    TEXT,
    prev_day  INTEGER,
    converted INTEGER NOT NULL,
    n         BIGINT NOT NULL
);
CREATE INDEX web_daily_visitors_site_dim_day ON web_daily_visitors (site_id, dim, day);
-- A visit's events, found from the visit (the pages rollup asks whether a visitor's earlier
-- visit viewed a page; the page filter asks the same of each visit).
CREATE INDEX events_visit ON events (site_id, visit_key, visit_started);
-- Existing visits: every site's days are rebuilt at its first report.
INSERT INTO web_dirty (site_id, day, dim)
SELECT DISTINCT v.site_id, v.day, d.dim FROM visits v CROSS JOIN (SELECT column1 AS dim FROM (VALUES
    (''), ('browser'), ('campaign'), ('channel'),
    ('country'), ('device_type'), ('entry_path'), ('exit_path'),
    ('medium'), ('os'), ('referrer_host'), ('source'),
    ('page'), ('page|channel'), ('page|source'), ('page|medium'),
    ('page|campaign'), ('page|country'), ('page|device_type'), ('entry_path|channel'),
    ('entry_path|source'), ('entry_path|medium'), ('entry_path|campaign'), ('entry_path|country'),
    ('entry_path|device_type'), ('exit_path|channel'), ('exit_path|source'), ('exit_path|medium'),
    ('exit_path|campaign'), ('exit_path|country'), ('exit_path|device_type'), ('channel|source'),
    ('channel|medium'), ('channel|campaign'), ('channel|country'), ('channel|device_type'),
    ('source|channel'), ('source|medium'), ('source|campaign'), ('source|country'),
    ('source|device_type'), ('referrer_host|channel'), ('referrer_host|source'), ('referrer_host|medium'),
    ('referrer_host|campaign'), ('referrer_host|country'), ('referrer_host|device_type'), ('campaign|channel'),
    ('campaign|source'), ('campaign|medium'), ('campaign|country'), ('campaign|device_type'),
    ('country|channel'), ('country|source'), ('country|medium'), ('country|campaign'),
    ('country|device_type'), ('device_type|channel'), ('device_type|source'), ('device_type|medium'),
    ('device_type|campaign'), ('device_type|country'), ('browser|channel'), ('browser|source'),
    ('browser|medium'), ('browser|campaign'), ('browser|country'), ('browser|device_type'),
    ('os|channel'), ('os|source'), ('os|medium'), ('os|campaign'),
    ('os|country'), ('os|device_type')
) AS x) d;
