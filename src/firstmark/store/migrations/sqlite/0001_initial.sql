-- firstmark schema, SQLite. Times are Unix epoch seconds (UTC). Forward-only: never edit a
-- migration that has shipped; add the next number instead.

CREATE TABLE domains (
    host         TEXT PRIMARY KEY,
    fallback_url TEXT,
    created_at   INTEGER NOT NULL
);

CREATE TABLE links (
    id              INTEGER PRIMARY KEY,
    domain          TEXT    NOT NULL DEFAULT '',
    code            TEXT    NOT NULL,
    destination     TEXT    NOT NULL,
    utm_source      TEXT,
    utm_medium      TEXT,
    utm_campaign    TEXT,
    utm_term        TEXT,
    utm_content     TEXT,
    utm_id          TEXT,
    campaign        TEXT,
    tags            TEXT    NOT NULL DEFAULT '[]',
    kind            TEXT    NOT NULL DEFAULT 'link' CHECK (kind IN ('link', 'qr')),
    placement       TEXT,
    redirect_status INTEGER NOT NULL DEFAULT 302 CHECK (redirect_status IN (301, 302, 307, 308)),
    forward_query   INTEGER NOT NULL DEFAULT 0,
    click_token     INTEGER NOT NULL DEFAULT 1,
    valid_from      INTEGER,
    expires_at      INTEGER,
    max_hits        INTEGER,
    fallback_url    TEXT,
    password_hash   TEXT,
    rules           TEXT    NOT NULL DEFAULT '[]',
    noindex         INTEGER NOT NULL DEFAULT 1,
    archived        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1,
    UNIQUE (domain, code)
);
CREATE INDEX links_campaign ON links (campaign);
CREATE INDEX links_utm ON links (utm_source, utm_medium, utm_campaign);

CREATE TABLE link_tags (
    tag     TEXT    NOT NULL,
    link_id INTEGER NOT NULL REFERENCES links (id),
    PRIMARY KEY (tag, link_id)
) WITHOUT ROWID;

-- The derived facts of hits, each distinct combination stored once. Never an IP address,
-- never a full user agent: only what was derived from them.
CREATE TABLE hit_dims (
    id            INTEGER PRIMARY KEY,
    key           TEXT    NOT NULL UNIQUE,
    country       TEXT,
    region        TEXT,
    city          TEXT,
    device_type   TEXT,
    os            TEXT,
    browser       TEXT,
    referrer_host TEXT,
    is_bot        INTEGER NOT NULL DEFAULT 0,
    bot_reason    TEXT,
    lang          TEXT
);

-- One narrow row per click or scan, appended in time order. No secondary index: each index is
-- paid on every click, and reports read the rollups below. Purges by age walk the rowid.
CREATE TABLE hits (
    id               INTEGER PRIMARY KEY,
    link_id          INTEGER NOT NULL,
    ts               REAL    NOT NULL,
    kind             TEXT    NOT NULL,
    visitor_day_hash TEXT    NOT NULL,
    dims_id          INTEGER NOT NULL
);

-- Hits with their facts, for reading and exporting.
CREATE VIEW hit_details AS
SELECT h.id, h.link_id, h.ts, h.kind, h.visitor_day_hash, d.country, d.region, d.city,
       d.device_type, d.os, d.browser, d.referrer_host, d.is_bot, d.bot_reason, d.lang
FROM hits h JOIN hit_dims d ON d.id = h.dims_id;

-- Visitors already counted as unique for a link on a day; kept two days, like the salts.
CREATE TABLE hit_visitors (
    link_id          INTEGER NOT NULL,
    day              INTEGER NOT NULL,
    visitor_day_hash TEXT    NOT NULL,
    PRIMARY KEY (link_id, day, visitor_day_hash)
) WITHOUT ROWID;

-- Counts per link, hour and kind (click or scan): time series and totals.
CREATE TABLE rollup_hourly (
    link_id  INTEGER NOT NULL,
    hour     INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    hits     INTEGER NOT NULL DEFAULT 0,
    bot_hits INTEGER NOT NULL DEFAULT 0,
    uniques  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, hour, kind)
) WITHOUT ROWID;

-- Counts per link, day, kind and combination of facts: breakdowns by country, device, ...
CREATE TABLE rollup_daily (
    link_id  INTEGER NOT NULL,
    day      INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    dims_id  INTEGER NOT NULL,
    hits     INTEGER NOT NULL DEFAULT 0,
    bot_hits INTEGER NOT NULL DEFAULT 0,
    uniques  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, day, kind, dims_id)
) WITHOUT ROWID;

CREATE TABLE salts (
    day  INTEGER PRIMARY KEY,
    salt BLOB    NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    prefix       TEXT    NOT NULL UNIQUE,
    hash         TEXT    NOT NULL,
    scopes       TEXT    NOT NULL,
    name         TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked      INTEGER NOT NULL DEFAULT 0
);
