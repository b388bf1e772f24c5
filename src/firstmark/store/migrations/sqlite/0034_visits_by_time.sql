-- Keys that start with the time (ADR 0039). The event writer adds a new visit, and an event
-- row naming it, for nearly every event; with the visit key (a session id or a day hash) as
-- the first column after the site, each index entry landed on a random page. Started first,
-- new entries land together at the end, and a lookup by site, key and start is as exact as
-- before. The visits' unique key leads with the time too (the table is rebuilt: a table's
-- UNIQUE cannot be changed in place), which makes visits_site_started a prefix of it. The
-- writer tells open visits from memory (store/sqlite/openvisits.py) instead of by key.

DROP INDEX events_visit;
CREATE INDEX events_visit ON events (site_id, visit_started, visit_key);

CREATE TABLE visits_by_time (
    id               INTEGER PRIMARY KEY,
    site_id          INTEGER NOT NULL,
    key              TEXT    NOT NULL,
    started          REAL    NOT NULL,
    last_ts          REAL    NOT NULL,
    day              INTEGER NOT NULL,
    visitor_day_hash TEXT    NOT NULL,
    visitor_id       TEXT,
    entry_path       TEXT    NOT NULL,
    exit_path        TEXT    NOT NULL,
    pageviews        INTEGER NOT NULL DEFAULT 0,
    events           INTEGER NOT NULL DEFAULT 0,
    source           TEXT    NOT NULL,
    medium           TEXT    NOT NULL,
    campaign         TEXT,
    term             TEXT,
    content          TEXT,
    referrer_host    TEXT,
    click_ids        TEXT    NOT NULL DEFAULT '',
    link_id          INTEGER,
    channel          TEXT    NOT NULL,
    country          TEXT,
    device_type      TEXT,
    browser          TEXT,
    os               TEXT,
    is_bot           INTEGER NOT NULL DEFAULT 0,
    conversions      INTEGER NOT NULL DEFAULT 0,
    revenue          REAL    NOT NULL DEFAULT 0,
    UNIQUE (site_id, started, key)
);
INSERT INTO visits_by_time SELECT * FROM visits ORDER BY site_id, started, key;
DROP TABLE visits;
ALTER TABLE visits_by_time RENAME TO visits;
CREATE INDEX visits_visitor ON visits (visitor_id, started);
