-- Each conversion's attribution credits, computed once (for the default time-decay half-life)
-- and then only summed by reports. A conversion is in `credited` once its credits are stored;
-- a touch arriving later for its visitor or click token removes both, so it is shared out
-- again. ts and currency are the conversion's, kept here so reports read this table alone.

CREATE TABLE credited (
    conversion_id INTEGER PRIMARY KEY
);

CREATE TABLE attribution_credits (
    conversion_id INTEGER NOT NULL,
    model         TEXT    NOT NULL,
    step          INTEGER NOT NULL,
    ts            REAL    NOT NULL,
    currency      TEXT,
    link_id       INTEGER,
    utm_source    TEXT,
    utm_medium    TEXT,
    utm_campaign  TEXT,
    utm_content   TEXT,
    day           INTEGER NOT NULL,
    share         REAL    NOT NULL,
    units         INTEGER NOT NULL,
    PRIMARY KEY (ts, conversion_id, model, step)  -- clustered by time: reports read a range
) WITHOUT ROWID;

CREATE INDEX conversions_visitor ON conversions (visitor_id, ts);
CREATE INDEX conversions_click_token ON conversions (click_token);
