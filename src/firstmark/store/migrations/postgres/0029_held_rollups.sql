-- Rollups held between writes (ADR 0031). A SQLite database has one server writing it, which
-- adds a batch's hit rows at once but its rollup increments only about once a second, so that
-- each rollup page is written once a second instead of once a batch; hits.first_visit says
-- which hit counted as a unique, and rollup_pending lists the id ranges of hits whose
-- increments are still held. PostgreSQL writes a batch's rollups with it (several nodes add
-- to them): it stores the flag too and keeps the table empty, for one schema on both engines.

ALTER TABLE hits ADD COLUMN first_visit SMALLINT;

CREATE TABLE rollup_pending (
    first_id BIGINT NOT NULL,
    last_id  BIGINT NOT NULL
);
