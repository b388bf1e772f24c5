-- Alerts (docs/reports-and-alerts.md): one row per occurrence. While its check keeps finding
-- the same kind and subject the occurrence stays open (resolved_at NULL) and is not raised
-- again; the unique index makes "raise once" hold across nodes. summary_runs names each
-- scheduled summary sent (e.g. "week:2026-11-23"), so a period goes out once.

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '{}',
    raised_at   REAL    NOT NULL,
    resolved_at REAL
);
CREATE UNIQUE INDEX alerts_open ON alerts (kind, subject) WHERE resolved_at IS NULL;
CREATE INDEX alerts_raised ON alerts (raised_at);

CREATE TABLE summary_runs (
    period  TEXT PRIMARY KEY,
    sent_at REAL NOT NULL
);
