-- Keys that start with the time (ADR 0039) are SQLite's: its one writer tells open visits from
-- memory. Here several nodes write, and the visits' unique key (site, key, started) is what
-- finds a visit another node opened, so the keys stay as they are.
SELECT 1;
