-- Ad costs imported from the platforms' exports (or a generic CSV), one row per line of a file.
-- day: days since the Unix epoch (UTC), as rollup_daily.day. spend_micros: the amount in
-- millionths of the currency unit, so sums stay exact.

CREATE TABLE costs (
    id           INTEGER PRIMARY KEY,
    day          INTEGER NOT NULL,
    source       TEXT    NOT NULL,
    medium       TEXT    NOT NULL,
    campaign     TEXT    NOT NULL,
    currency     TEXT    NOT NULL,
    spend_micros INTEGER NOT NULL CHECK (spend_micros >= 0),
    impressions  INTEGER,
    clicks       INTEGER,
    imported_at  INTEGER NOT NULL
);
CREATE INDEX costs_by_channel ON costs (source, medium, day);
CREATE INDEX costs_by_day ON costs (day);
