-- Funnel reports' daily rollups (store/rows/funnelrollup.py), derived from the events of
-- visits: a report first rebuilds its funnel from the earliest day in funnel_dirty (the
-- writer's marks of the site, dim 'funnels' in web_dirty, are handed to each of its funnels
-- there), then reads funnel_daily instead of the events.

CREATE TABLE funnel_dirty (
    funnel_id INTEGER PRIMARY KEY,
    day       INTEGER NOT NULL
);
-- Visitors of a day who reached step (0-based) within one visit, by the last earlier day the
-- same consented visitor reached it (prev_day NULL: none, or a daily visitor hash).
CREATE TABLE funnel_daily (
    funnel_id INTEGER NOT NULL,
    day       INTEGER NOT NULL,
    step      INTEGER NOT NULL,
    prev_day  INTEGER,
    n         INTEGER NOT NULL
);
CREATE INDEX funnel_daily_funnel_day ON funnel_daily (funnel_id, day);
-- How far each consented visitor got on a day (what prev_day of later days is read from).
CREATE TABLE funnel_visitors (
    funnel_id INTEGER NOT NULL,
    day       INTEGER NOT NULL,
    visitor   TEXT NOT NULL,
    reached   INTEGER NOT NULL
);
CREATE INDEX funnel_visitors_funnel_day ON funnel_visitors (funnel_id, day);
-- Existing funnels are built at their first report.
INSERT INTO funnel_dirty (funnel_id, day)
SELECT f.id, min(v.day) FROM funnels f JOIN visits v ON v.site_id = f.site_id GROUP BY f.id;
-- Custom events by name (the events report by name and property, goals and event steps),
-- pageviews left out so the writer's bulk pays nothing for it.
CREATE INDEX events_site_name_ts ON events (site_id, name, ts) WHERE kind <> 'pageview';
