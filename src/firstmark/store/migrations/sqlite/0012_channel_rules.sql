-- An operator's channel rules, run before the default grouping (domain/channels.py), and
-- referrer exclusions (action 'exclude', field 'referrer'). Listed and applied in id order.

CREATE TABLE channel_rules (
    id         INTEGER PRIMARY KEY,
    action     TEXT    NOT NULL CHECK (action IN ('channel', 'exclude')),
    field      TEXT    NOT NULL CHECK (field IN ('source', 'medium', 'campaign', 'referrer')),
    match      TEXT    NOT NULL CHECK (match IN ('equals', 'contains', 'ends_with')),
    value      TEXT    NOT NULL,
    channel    TEXT,
    created_at INTEGER NOT NULL
);
