-- Claimable jobs: a generic queue with leases, the primitive the outbox worker builds on.
-- A job is due when run_at has passed and no live lease holds it; a claim sets a lease, and
-- a lease that expires (a worker died) makes the job claimable again. On SQLite claims run
-- in the one writer transaction (BEGIN IMMEDIATE), so workers never take one job twice.

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    queue       TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    run_at      REAL    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until REAL,
    created_at  REAL    NOT NULL,
    done_at     REAL
);
CREATE INDEX jobs_due ON jobs (queue, run_at) WHERE done_at IS NULL;
