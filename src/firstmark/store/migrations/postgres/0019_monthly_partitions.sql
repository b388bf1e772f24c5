-- hits, events and visits partitioned by month (range on their time column, epoch seconds,
-- UTC months), so retention drops a whole month with DROP TABLE instead of deleting millions
-- of rows. Existing rows are copied into the new tables here, in this one transaction: on a
-- large install the migration takes as long as copying those tables once.
--
-- Partitions are named <table>_pYYYYMM; <table>_default catches anything outside the months
-- created (far-future or very old timestamps). firstmark_month_partitions() creates the
-- months of a time range; the purge job calls it daily for the months ahead.
-- A partitioned table's unique keys must hold the partition column: events and visits key on
-- (id, ts) and (id, started); ids still come from one identity each, so they stay unique.

CREATE FUNCTION firstmark_month_partitions(tbl TEXT, from_ts DOUBLE PRECISION,
                                           to_ts DOUBLE PRECISION) RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    month TIMESTAMP := date_trunc('month', to_timestamp(from_ts) AT TIME ZONE 'UTC');
    last  TIMESTAMP := date_trunc('month', to_timestamp(to_ts) AT TIME ZONE 'UTC');
    name  TEXT;
    made  INTEGER := 0;
BEGIN
    WHILE month <= last LOOP
        name := tbl || '_p' || to_char(month, 'YYYYMM');
        IF to_regclass(name) IS NULL THEN
            BEGIN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
                    name, tbl,
                    extract(epoch FROM month)::BIGINT,
                    extract(epoch FROM month + INTERVAL '1 month')::BIGINT);
                made := made + 1;
            EXCEPTION WHEN check_violation OR invalid_object_definition OR duplicate_table THEN
                -- Rows of that month already sit in the default partition (leave them there),
                -- or another node created it at the same moment.
                RAISE NOTICE 'partition % not created: %', name, SQLERRM;
            END;
        END IF;
        month := month + INTERVAL '1 month';
    END LOOP;
    RETURN made;
END $$;

-- hits
DROP VIEW hit_details;
ALTER TABLE hits RENAME TO hits_unpartitioned;
DROP INDEX hits_ts;
CREATE TABLE hits (LIKE hits_unpartitioned INCLUDING DEFAULTS INCLUDING IDENTITY)
    PARTITION BY RANGE (ts);
CREATE TABLE hits_default PARTITION OF hits DEFAULT;
SELECT firstmark_month_partitions('hits',
    coalesce((SELECT min(ts) FROM hits_unpartitioned), extract(epoch FROM now())),
    extract(epoch FROM now() + INTERVAL '2 months'));
INSERT INTO hits SELECT * FROM hits_unpartitioned;
SELECT setval(pg_get_serial_sequence('hits', 'id'),
              coalesce((SELECT max(id) FROM hits), 0) + 1, false);
DROP TABLE hits_unpartitioned;
CREATE INDEX hits_ts ON hits USING brin (ts);
CREATE VIEW hit_details AS
SELECT h.id, h.link_id, h.ts, h.kind, h.visitor_day_hash, d.country, d.region, d.city,
       d.device_type, d.os, d.browser, d.referrer_host, d.is_bot, d.bot_reason, d.lang
FROM hits h JOIN hit_dims d ON d.id = h.dims_id;

-- events
ALTER TABLE events RENAME TO events_unpartitioned;
ALTER TABLE events_unpartitioned RENAME CONSTRAINT events_pkey TO events_unpartitioned_pkey;
DROP INDEX events_site_ts;
DROP INDEX events_site_kind_ts;
CREATE TABLE events (LIKE events_unpartitioned INCLUDING DEFAULTS INCLUDING IDENTITY)
    PARTITION BY RANGE (ts);
CREATE TABLE events_default PARTITION OF events DEFAULT;
SELECT firstmark_month_partitions('events',
    coalesce((SELECT min(ts) FROM events_unpartitioned), extract(epoch FROM now())),
    extract(epoch FROM now() + INTERVAL '2 months'));
INSERT INTO events SELECT * FROM events_unpartitioned;
SELECT setval(pg_get_serial_sequence('events', 'id'),
              coalesce((SELECT max(id) FROM events), 0) + 1, false);
DROP TABLE events_unpartitioned;
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id, ts);
CREATE INDEX events_site_ts ON events (site_id, ts);
CREATE INDEX events_site_kind_ts ON events (site_id, kind, ts);

-- visits
ALTER TABLE visits RENAME TO visits_unpartitioned;
ALTER TABLE visits_unpartitioned RENAME CONSTRAINT visits_pkey TO visits_unpartitioned_pkey;
ALTER TABLE visits_unpartitioned
    RENAME CONSTRAINT visits_site_id_key_started_key TO visits_unpartitioned_key;
DROP INDEX visits_site_started;
DROP INDEX visits_visitor;
CREATE TABLE visits (LIKE visits_unpartitioned INCLUDING DEFAULTS INCLUDING IDENTITY)
    PARTITION BY RANGE (started);
CREATE TABLE visits_default PARTITION OF visits DEFAULT;
SELECT firstmark_month_partitions('visits',
    coalesce((SELECT min(started) FROM visits_unpartitioned), extract(epoch FROM now())),
    extract(epoch FROM now() + INTERVAL '2 months'));
INSERT INTO visits SELECT * FROM visits_unpartitioned;
SELECT setval(pg_get_serial_sequence('visits', 'id'),
              coalesce((SELECT max(id) FROM visits), 0) + 1, false);
DROP TABLE visits_unpartitioned;
ALTER TABLE visits ADD CONSTRAINT visits_pkey PRIMARY KEY (id, started);
ALTER TABLE visits ADD CONSTRAINT visits_site_id_key_started_key UNIQUE (site_id, key, started);
CREATE INDEX visits_site_started ON visits (site_id, started);
CREATE INDEX visits_visitor ON visits (visitor_id, started);
