-- PostgreSQL partitions hits, events and visits by month here (its 0019). SQLite has no
-- partitions: the purge deletes old rows in bounded batches instead. Nothing to change.
SELECT 1;
