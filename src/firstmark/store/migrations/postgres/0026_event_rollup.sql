-- The events report's daily rollups (store/rows/eventrollup.py), derived from the custom
-- events of visits, as web_daily is from the visits. A dim is what a report asked for:
-- 'event' (rows by event name) or 'prop/<property>/<event name>' (rows by that property's
-- value), with '|<visits column>' when one filter narrows it (filter keeps that column's
-- value). A dim is registered at its first report; the writer's marks (dim 'events' in
-- web_dirty) are then handed to each registered dim of the site.

CREATE TABLE web_event_dims (
    site_id BIGINT NOT NULL,
    dim     TEXT    NOT NULL,
    PRIMARY KEY (site_id, dim)
);
-- Sums of the visits started on a UTC day that sent such an event, by its name or property
-- value (events: how many such events those visits sent).
CREATE TABLE web_event_daily (
    site_id     BIGINT NOT NULL,
    day         INTEGER NOT NULL,
    dim         TEXT    NOT NULL,
    value       TEXT,
    filter      TEXT,
    visits      BIGINT NOT NULL,
    pageviews   BIGINT NOT NULL,
    bounces     BIGINT NOT NULL,
    duration    DOUBLE PRECISION NOT NULL,
    conversions BIGINT NOT NULL,
    revenue     DOUBLE PRECISION NOT NULL,
    events      BIGINT NOT NULL
);
CREATE INDEX web_event_daily_site_dim_day ON web_event_daily (site_id, dim, day);
-- Visitors as in web_daily_visitors: prev_day is the last earlier day the same consented
-- visitor had a visit with such an event.
CREATE TABLE web_event_visitors (
    site_id   BIGINT NOT NULL,
    day       INTEGER NOT NULL,
    dim       TEXT    NOT NULL,
    value     TEXT,
    filter    TEXT,
    prev_day  INTEGER,
    converted INTEGER NOT NULL,
    n         BIGINT NOT NULL
);
CREATE INDEX web_event_visitors_site_dim_day ON web_event_visitors (site_id, dim, day);
-- When the writer first marked a day since its last rebuild (epoch seconds; 0 for marks made
-- before): the rollup refresher of `firstmark serve` rebuilds marked days within seconds,
-- and a report rebuilds them itself only when a mark is older than the refresher allows.
ALTER TABLE web_dirty ADD COLUMN marked_at DOUBLE PRECISION NOT NULL DEFAULT 0;
