-- Sites, site events, touches, goals and conversions. Portable SQL: the PostgreSQL engine
-- gets the same tables (REAL → double precision, INTEGER PRIMARY KEY → bigserial).

-- A website allowed to send events: its public key names it in the script tag.
CREATE TABLE sites (
    id         INTEGER PRIMARY KEY,
    key        TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- The hosts (allowed origins) of each site; a host belongs to one site.
CREATE TABLE site_hosts (
    host    TEXT    PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites (id)
);

-- One row per pageview, event or web conversion. Never an IP address or a user agent;
-- visitor_id and session_id only with analytics consent.
CREATE TABLE events (
    id               INTEGER PRIMARY KEY,
    site_id          INTEGER NOT NULL,
    ts               REAL    NOT NULL,
    kind             TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    path             TEXT    NOT NULL,
    referrer_host    TEXT,
    utm_source       TEXT,
    utm_medium       TEXT,
    utm_campaign     TEXT,
    utm_term         TEXT,
    utm_content      TEXT,
    link_id          INTEGER,
    visitor_day_hash TEXT    NOT NULL,
    visitor_id       TEXT,
    session_id       TEXT,
    value            REAL,
    currency         TEXT,
    consent          TEXT    NOT NULL,
    country          TEXT,
    device_type      TEXT,
    is_bot           INTEGER NOT NULL DEFAULT 0,
    props            TEXT
);
CREATE INDEX events_site_ts ON events (site_id, ts);

-- Visits from a channel, the input of attribution (analytics consent only); click ids
-- (JSON object) only with ads consent.
CREATE TABLE touches (
    id           INTEGER PRIMARY KEY,
    site_id      INTEGER,
    ts           REAL    NOT NULL,
    visitor_id   TEXT,
    click_token  TEXT,
    link_id      INTEGER,
    utm_source   TEXT,
    utm_medium   TEXT,
    utm_campaign TEXT,
    utm_term     TEXT,
    utm_content  TEXT,
    click_ids    TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX touches_visitor ON touches (visitor_id, ts);
CREATE INDEX touches_click_token ON touches (click_token);

CREATE TABLE goals (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    kind          TEXT    NOT NULL CHECK (kind IN ('macro', 'micro')),
    event_name    TEXT    NOT NULL DEFAULT '',
    default_value REAL,
    currency      TEXT,
    window_days   INTEGER NOT NULL DEFAULT 30,
    created_at    INTEGER NOT NULL
);

-- event_id is the idempotency key; an order is counted once per goal. user_data holds
-- SHA-256 hashes only (JSON), consent the decided state (JSON). Outbox rows for forwarding
-- are written in the same transaction as the conversion.
CREATE TABLE conversions (
    id           INTEGER PRIMARY KEY,
    event_id     TEXT    NOT NULL UNIQUE,
    goal_id      INTEGER NOT NULL REFERENCES goals (id),
    ts           REAL    NOT NULL,
    value        REAL,
    currency     TEXT,
    order_id     TEXT,
    visitor_id   TEXT,
    click_token  TEXT,
    link_id      INTEGER,
    utm_source   TEXT,
    utm_medium   TEXT,
    utm_campaign TEXT,
    user_data    TEXT    NOT NULL DEFAULT '{}',
    consent      TEXT    NOT NULL,
    source       TEXT    NOT NULL CHECK (source IN ('web', 'server', 'call')),
    site_id      INTEGER,
    created_at   INTEGER NOT NULL,
    UNIQUE (goal_id, order_id)
);
CREATE INDEX conversions_ts ON conversions (ts);
