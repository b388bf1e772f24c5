-- Visits: a site's pageviews and events grouped by visitor with < 30 min gaps (domain/visits.py),
-- built on write by the event writer. `key` is the session id under analytics consent, else
-- the day's visitor hash (prefixed s: / h:); visitor_id only with analytics consent. The entry
-- decides source, medium, campaign, referrer and channel. Bots are kept apart (is_bot).

CREATE TABLE visits (
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
    UNIQUE (site_id, key, started)
);
-- Reports read a site's visits over a time range.
CREATE INDEX visits_site_started ON visits (site_id, started);
CREATE INDEX visits_visitor ON visits (visitor_id, started);
-- Each event names its visit (key and start), so page and event reports join it to its visit.
ALTER TABLE events ADD COLUMN visit_key TEXT;
ALTER TABLE events ADD COLUMN visit_started REAL;
-- Pages and events reports read a site's events by time.
CREATE INDEX events_site_kind_ts ON events (site_id, kind, ts);
