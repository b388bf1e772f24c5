-- Rollups held between writes (ADR 0031). The one server writing a SQLite database adds a
-- batch's hit rows at once but its rollup increments only about once a second, so that each
-- rollup page is written once a second instead of once a batch. hits.first_visit says which
-- hit counted as a unique, so the increments can be summed again from the hit rows alone;
-- rollup_pending lists the id ranges of hits whose increments are still held. After a crash
-- they are summed again from those rows at the next start. Older rows keep NULL.

ALTER TABLE hits ADD COLUMN first_visit SMALLINT;

CREATE TABLE rollup_pending (
    first_id INTEGER NOT NULL,
    last_id  INTEGER NOT NULL
);
