-- QR codes: logos, placements (one printed code each), event schedules, destination health.
-- Portable SQL: the PostgreSQL engine creates the same tables (BLOB becomes BYTEA).

-- Uploaded centre logos, stored once per content (sha256) and reused by id.
CREATE TABLE qr_logos (
    id         INTEGER PRIMARY KEY,
    sha256     TEXT    NOT NULL UNIQUE,
    media_type TEXT    NOT NULL,
    data       BLOB    NOT NULL,
    width      INTEGER NOT NULL DEFAULT 0,
    height     INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- A placement is a printed code: its own link row (kind 'qr', its own code, so a scan is
-- attributed to it on the redirect path) plus what was printed where, for how much.
CREATE TABLE qr_placements (
    link_id    INTEGER PRIMARY KEY REFERENCES links (id),
    parent_id  INTEGER NOT NULL REFERENCES links (id),
    name       TEXT    NOT NULL,
    venue      TEXT,
    medium     TEXT,
    quantity   INTEGER,
    print_cost TEXT,
    currency   TEXT,
    starts_on  TEXT,
    ends_on    TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (parent_id, name)
);

-- Event mode: where a link (and its placements) lead before, during and after an event, and
-- where they go once the event is retired; the summary is kept at retirement.
CREATE TABLE qr_events (
    link_id      INTEGER PRIMARY KEY REFERENCES links (id),
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    before_url   TEXT,
    during_url   TEXT,
    after_url    TEXT,
    retire_at    INTEGER,
    fallback_url TEXT,
    summary      TEXT,
    updated_at   INTEGER NOT NULL
);

-- The last health check of each link's destination.
CREATE TABLE link_health (
    link_id     INTEGER PRIMARY KEY REFERENCES links (id),
    checked_at  INTEGER NOT NULL,
    ok          INTEGER NOT NULL,
    status      INTEGER,
    error       TEXT,
    final_url   TEXT,
    destination TEXT    NOT NULL
);
