-- A daily rollup of the stored attribution credits (ADR 0028): per day of the conversion,
-- model, currency and the touch's source, medium, campaign and content, the sum of the shares
-- and of the cents. The attribution report reads it for whole days. Whatever changes a day's
-- credits (credits written, a late touch dropping them, the retention purge) marks the day in
-- credit_dirty, and the day is summed again from attribution_credits before it is read.

CREATE TABLE credit_days (
    day          INTEGER NOT NULL,
    model        TEXT    NOT NULL,
    currency     TEXT,
    utm_source   TEXT,
    utm_medium   TEXT,
    utm_campaign TEXT,
    utm_content  TEXT,
    share        REAL    NOT NULL,
    units        INTEGER NOT NULL
);
CREATE INDEX credit_days_day ON credit_days (day);

CREATE TABLE credit_dirty (
    day INTEGER PRIMARY KEY
);
-- Credits stored before the upgrade are summed at the first report (or by the crediting job).
INSERT INTO credit_dirty (day)
SELECT DISTINCT CAST(ts / 86400 AS INTEGER) FROM attribution_credits;
