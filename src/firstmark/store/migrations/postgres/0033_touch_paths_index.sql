-- SQLite widens touches_visitor to cover the columns a path reads (ADR 0040). PostgreSQL keeps
-- it as it is: its B-tree entries are limited to about 2.7 kB, which four landing-page UTM
-- values of up to 512 characters each could pass, and its planner reads touches by bitmap
-- anyway. The comment records the decision in the database.
COMMENT ON INDEX touches_visitor IS 'visitor_id, ts: paths and journeys in order (ADR 0040)';
