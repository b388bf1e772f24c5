-- First visits without a row per visitor (ADR 0029). The one writer of a SQLite database keeps
-- each link's visitors of the day in a sketch (exact hashes up to 2,048, then HyperLogLog
-- registers) and saves the changed sketches every few seconds with the id of the last hit they
-- include; hits written after that id are replayed into them on the next start. hit_visitors
-- stays for the upgrade: its rows of the last two days seed the sketches once (hit_id NULL),
-- and the retention purge empties it. No mark row yet means not seeded. Sketches are deleted with the day's salt.

CREATE TABLE visitor_sketches (
    link_id  INTEGER NOT NULL,
    day      INTEGER NOT NULL,
    version  INTEGER NOT NULL,
    credited INTEGER NOT NULL,
    sketch   BLOB    NOT NULL,
    PRIMARY KEY (link_id, day)
);

CREATE TABLE visitor_sketch_mark (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    hit_id INTEGER
);
