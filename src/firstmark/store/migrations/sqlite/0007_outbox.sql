-- Destinations (ad platform connections), the forwarding outbox and its delivery log.
-- Portable SQL: the PostgreSQL engine gets the same tables (REAL → double precision,
-- INTEGER PRIMARY KEY → bigserial).

-- One connection to an ad platform. `credentials` is sealed (encrypted and authenticated)
-- with a key derived from the server secret; `credential_fields` names the fields it holds,
-- so listings never need to open it. `goals` maps goal names to platform event names (JSON).
CREATE TABLE destinations (
    id                INTEGER PRIMARY KEY,
    platform          TEXT    NOT NULL,
    name              TEXT    NOT NULL UNIQUE,
    credentials       TEXT    NOT NULL,
    credential_fields TEXT    NOT NULL DEFAULT '[]',
    goals             TEXT    NOT NULL DEFAULT '{}',
    endpoint_base     TEXT,
    test_mode         INTEGER NOT NULL DEFAULT 0,
    options           TEXT    NOT NULL DEFAULT '{}',
    enabled           INTEGER NOT NULL DEFAULT 1,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

-- One row per (conversion, destination), written in the conversion's own transaction.
-- While a row is `sending`, next_attempt_at is the end of its lease: a worker that dies
-- leaves it due again when the lease runs out. `sealed_client` holds the client IP and
-- user agent (encrypted) for platforms that take them, and is erased once the row is sent
-- or dead. `click_ids` (JSON) are the ad click ids kept under ads consent.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    destination_id  INTEGER NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
    conversion_id   INTEGER NOT NULL REFERENCES conversions (id),
    event_name      TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'retry', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL    NOT NULL,
    lease_owner     TEXT,
    last_status     INTEGER,
    last_error      TEXT,
    click_ids       TEXT    NOT NULL DEFAULT '{}',
    sealed_client   TEXT,
    created_at      REAL    NOT NULL,
    sent_at         REAL,
    UNIQUE (conversion_id, destination_id)
);
CREATE INDEX outbox_due ON outbox (next_attempt_at)
    WHERE status IN ('pending', 'retry', 'sending');
CREATE INDEX outbox_destination ON outbox (destination_id, status);

-- Every attempt at delivering an outbox row: what the platform answered, how fast, and an
-- excerpt of its message. Never credentials, never user data.
CREATE TABLE deliveries (
    id             INTEGER PRIMARY KEY,
    outbox_id      INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    destination_id INTEGER NOT NULL,
    ts             REAL    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('sent', 'retry', 'dead')),
    attempt        INTEGER NOT NULL,
    http_status    INTEGER,
    latency_ms     REAL,
    error          TEXT
);
CREATE INDEX deliveries_destination ON deliveries (destination_id, id);
