-- The audit log: who changed a link, destination, key, user or retention, and who exported
-- or erased a person's data. `actor` is a dashboard user name or an API key's prefix, never
-- a visitor; `object_id` names the changed object (for privacy requests: the kind of
-- identifier, never its value); `detail` is a small JSON object (counts, changed fields).

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    ts          REAL    NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    object_kind TEXT    NOT NULL,
    object_id   TEXT,
    detail      TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_ts ON audit (ts);
