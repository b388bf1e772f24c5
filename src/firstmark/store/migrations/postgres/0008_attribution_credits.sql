-- Each conversion's attribution credits, computed once (for the default time-decay half-life)
-- and then only summed by reports. A conversion is in `credited` once its credits are stored;
-- a touch arriving later for its visitor or click token removes both, so it is shared out
-- again. ts and currency are the conversion's, kept here so reports read this table alone.

CREATE TABLE credited (
    conversion_id BIGINT PRIMARY KEY
);

CREATE TABLE attribution_credits (
    conversion_id BIGINT           NOT NULL,
    model         TEXT             NOT NULL,
    step          INTEGER          NOT NULL,
    ts            DOUBLE PRECISION NOT NULL,
    currency      TEXT,
    link_id       BIGINT,
    utm_source    TEXT,
    utm_medium    TEXT,
    utm_campaign  TEXT,
    utm_content   TEXT,
    day           INTEGER          NOT NULL,
    share         DOUBLE PRECISION NOT NULL,
    units         BIGINT           NOT NULL,
    PRIMARY KEY (conversion_id, model, step)
);
CREATE INDEX attribution_credits_ts ON attribution_credits (ts);

CREATE INDEX conversions_visitor ON conversions (visitor_id, ts);
CREATE INDEX conversions_click_token ON conversions (click_token);
