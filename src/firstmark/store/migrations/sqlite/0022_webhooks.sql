-- Outgoing webhooks: subscriber endpoints, their outbox of signed messages and its delivery
-- log. Messages ride the same retry, dead-letter and replay rules as the forwarding outbox;
-- `msg_id` is the `webhook-id` header of every attempt (receivers deduplicate by it).

-- `secrets` is sealed with the server secret: the current `whsec_` secret and, after a
-- rotation, the previous one, which signs too until `previous_until`.
CREATE TABLE webhook_endpoints (
    id             INTEGER PRIMARY KEY,
    url            TEXT    NOT NULL,
    events         TEXT    NOT NULL DEFAULT '[]',
    secrets        TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    click_mode     TEXT    NOT NULL DEFAULT 'aggregate',
    sample_every   INTEGER NOT NULL DEFAULT 100,
    enabled        INTEGER NOT NULL DEFAULT 1,
    previous_until REAL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

-- One row per (event, endpoint). `body` is the exact JSON that is signed and sent: ids, codes
-- and amounts, never a visitor id or click id; a conversion's hashed e-mail and phone where the
-- visitor granted ad_user_data, and its order id (personal data: an erasure deletes or empties
-- these rows).
CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    msg_id          TEXT    NOT NULL UNIQUE,
    event_type      TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'retry', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL    NOT NULL,
    lease_owner     TEXT,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      REAL    NOT NULL,
    sent_at         REAL
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at)
    WHERE status IN ('pending', 'retry', 'sending');
CREATE INDEX webhook_outbox_endpoint ON webhook_outbox (endpoint_id, status);

CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY,
    outbox_id   INTEGER NOT NULL REFERENCES webhook_outbox (id) ON DELETE CASCADE,
    endpoint_id INTEGER NOT NULL,
    ts          REAL    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('sent', 'retry', 'dead')),
    attempt     INTEGER NOT NULL,
    http_status INTEGER,
    latency_ms  REAL,
    error       TEXT
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
