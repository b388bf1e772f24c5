-- The tables of SQLite's first-visit sketches (ADR 0029), kept on both engines so a database
-- moves between them with the same schema. PostgreSQL serves many nodes, and a visitor's
-- clicks may reach any of them: first visits stay one row per visitor in hit_visitors, whose
-- unique key decides between nodes, so these tables stay empty here.

CREATE TABLE visitor_sketches (
    link_id  BIGINT  NOT NULL,
    day      BIGINT  NOT NULL,
    version  BIGINT  NOT NULL,
    credited BIGINT  NOT NULL,
    sketch   BYTEA   NOT NULL,
    PRIMARY KEY (link_id, day)
);

CREATE TABLE visitor_sketch_mark (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    hit_id BIGINT
);
