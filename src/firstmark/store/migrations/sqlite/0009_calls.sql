-- Call tracking: tracking numbers, DNI pools, the leases that lend a pool number to one
-- visitor session, and calls. Portable SQL: the PostgreSQL engine gets the same tables
-- (REAL → double precision, INTEGER ids → BIGINT identities, flags → BOOLEAN).

-- A tracking number: static (bound to a link or a campaign, or to nothing) or in a pool.
-- A released number is kept for its calls; its E.164 may then be registered again.
-- leased_until/last_leased/lease_id hold a pool number's current lease: free once
-- leased_until is past, and the next lease goes to the number free the longest.
CREATE TABLE numbers (
    id           INTEGER PRIMARY KEY,
    e164         TEXT    NOT NULL,
    provider     TEXT    NOT NULL,
    forward_to   TEXT    NOT NULL,
    label        TEXT    NOT NULL DEFAULT '',
    pool         TEXT,
    link_id      INTEGER REFERENCES links (id),
    campaign     TEXT,
    qualify_s    INTEGER NOT NULL,
    record       INTEGER NOT NULL DEFAULT 0,
    fallback_to  TEXT,
    hours        TEXT,
    timezone     TEXT    NOT NULL DEFAULT 'UTC',
    goal         TEXT,
    leased_until REAL    NOT NULL DEFAULT 0,
    last_leased  REAL    NOT NULL DEFAULT 0,
    lease_id     TEXT,
    released_at  REAL,
    created_at   REAL    NOT NULL,
    updated_at   REAL    NOT NULL
);
CREATE UNIQUE INDEX numbers_e164 ON numbers (e164) WHERE released_at IS NULL;
-- A lease reads the first entry of its pool: no scan, however many numbers are leased.
CREATE INDEX numbers_free ON numbers (pool, leased_until, last_leased, id)
    WHERE released_at IS NULL AND pool IS NOT NULL;

-- A DNI pool's settings; a pool named by numbers but never set up uses the defaults.
CREATE TABLE pools (
    name       TEXT    PRIMARY KEY,
    fallback   TEXT,
    site_id    INTEGER REFERENCES sites (id),
    lease_s    INTEGER NOT NULL,
    created_at REAL    NOT NULL
);

-- One pool number lent to one visitor session, and where that session came from: a call to
-- the number while the lease holds is attributed to it. visitor_id and click_token only with
-- analytics consent, click_ids (JSON) only with ads consent; consent is the decided state
-- (JSON), kept so a qualified call is forwarded only as the visitor allowed.
CREATE TABLE number_leases (
    id            TEXT    PRIMARY KEY,
    number_id     INTEGER NOT NULL REFERENCES numbers (id),
    pool          TEXT    NOT NULL,
    site_id       INTEGER,
    started       REAL    NOT NULL,
    expires       REAL    NOT NULL,
    consent       TEXT    NOT NULL,
    visitor_id    TEXT,
    click_token   TEXT,
    link_id       INTEGER,
    utm_source    TEXT,
    utm_medium    TEXT,
    utm_campaign  TEXT,
    utm_term      TEXT,
    utm_content   TEXT,
    referrer_host TEXT,
    click_ids     TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX number_leases_number ON number_leases (number_id, started);
-- Storing a lease marks its number leased, so a lease is taken in one statement (the insert
-- picks the number, this marks it): no round trips inside the write lock. Only a lease that
-- ends later than the number's current one marks it, so rows loaded by `firstmark copy`
-- leave the copied numbers as they were.
CREATE TRIGGER number_leases_take AFTER INSERT ON number_leases
WHEN NEW.expires > (SELECT leased_until FROM numbers WHERE id = NEW.number_id)
BEGIN
    UPDATE numbers SET leased_until = NEW.expires, last_leased = NEW.started, lease_id = NEW.id
    WHERE id = NEW.number_id;
END;

-- One row per provider call id, whatever order and however often its webhooks arrive.
-- The caller is kept as a keyed hash and the last two digits only, never the number.
-- Channel, link and campaign are the call's attribution at the time of the call.
CREATE TABLE calls (
    id            INTEGER PRIMARY KEY,
    provider      TEXT    NOT NULL,
    call_id       TEXT    NOT NULL,
    number_id     INTEGER NOT NULL REFERENCES numbers (id),
    started       REAL    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('ringing', 'answered', 'completed',
                  'busy', 'no-answer', 'failed', 'canceled')),
    answered      REAL,
    ended         REAL,
    duration_s    INTEGER,
    caller_hash   TEXT,
    caller_last2  TEXT,
    lease_id      TEXT,
    channel       TEXT    NOT NULL,
    link_id       INTEGER,
    campaign      TEXT,
    utm_source    TEXT,
    utm_medium    TEXT,
    utm_campaign  TEXT,
    utm_content   TEXT,
    conversion_id INTEGER,
    updated_at    REAL    NOT NULL,
    UNIQUE (provider, call_id)
);
CREATE INDEX calls_started ON calls (started);
CREATE INDEX calls_number ON calls (number_id, started);
