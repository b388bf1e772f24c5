-- Funnels: a site's ordered steps (JSON list of {"page": pattern} or {"event": name}), reached
-- within one visit or within `days` days (domain/funnels.py). Reports are computed on demand.

CREATE TABLE funnels (
    id         INTEGER PRIMARY KEY,
    site_id    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    steps      TEXT    NOT NULL,
    within     TEXT    NOT NULL CHECK (within IN ('visit', 'days')),
    days       INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);
CREATE INDEX funnels_site ON funnels (site_id);
