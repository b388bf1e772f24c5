-- Retention: the last purge of each data class (domain/retention.py names the classes), so
-- the operator and the Privacy page can show what went and when.
CREATE TABLE retention_purges (
    class   TEXT    PRIMARY KEY,
    days    INTEGER NOT NULL,
    ran_at  REAL    NOT NULL,
    deleted INTEGER NOT NULL
);
