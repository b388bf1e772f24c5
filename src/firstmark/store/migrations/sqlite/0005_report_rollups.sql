-- Daily totals per link and kind, without the facts of rollup_daily: what reports add up.
-- A report over 90 days reads links x 90 x 2 rows instead of every hour of every link.

CREATE TABLE rollup_day (
    link_id  INTEGER NOT NULL,
    day      INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    hits     INTEGER NOT NULL DEFAULT 0,
    bot_hits INTEGER NOT NULL DEFAULT 0,
    uniques  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, day, kind)
) WITHOUT ROWID;
CREATE INDEX rollup_day_by_day ON rollup_day (day);

INSERT INTO rollup_day (link_id, day, kind, hits, bot_hits, uniques)
SELECT link_id, hour / 86400, kind, sum(hits), sum(bot_hits), sum(uniques)
FROM rollup_hourly GROUP BY 1, 2, 3;

-- The same over every link: the overview's series, one row per day and kind. The writer adds a
-- batch at a time (not a click at a time), so this row is written once per flush.
CREATE TABLE rollup_totals (
    day      INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    hits     INTEGER NOT NULL DEFAULT 0,
    bot_hits INTEGER NOT NULL DEFAULT 0,
    uniques  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, kind)
) WITHOUT ROWID;

INSERT INTO rollup_totals (day, kind, hits, bot_hits, uniques)
SELECT day, kind, sum(hits), sum(bot_hits), sum(uniques) FROM rollup_day GROUP BY 1, 2;

-- Conversion sums by day, channel and currency read this index alone, never the table.
CREATE INDEX conversions_report ON conversions
    (ts, currency, value, link_id, utm_source, utm_medium, utm_campaign);
