-- A/B destinations (docs/links.md): a link's weighted variants (JSON, variant 0 is the
-- destination), the variant each click was sent to, the variant a conversion's click token
-- names, and per-variant daily counts that outlive the purge of raw hits.

ALTER TABLE links ADD COLUMN variants TEXT NOT NULL DEFAULT '[]';
ALTER TABLE hits ADD COLUMN variant SMALLINT;
ALTER TABLE conversions ADD COLUMN variant SMALLINT;

DROP VIEW hit_details;
CREATE VIEW hit_details AS
SELECT h.id, h.link_id, h.ts, h.kind, h.visitor_day_hash, d.country, d.region, d.city,
       d.device_type, d.os, d.browser, d.referrer_host, d.is_bot, d.bot_reason, d.lang, h.variant
FROM hits h JOIN hit_dims d ON d.id = h.dims_id;

-- Counts per link, day and variant (hits of every kind), as rollup_day keeps them per kind.
CREATE TABLE rollup_variant (
    link_id  INTEGER NOT NULL,
    day      INTEGER NOT NULL,
    variant  INTEGER NOT NULL,
    hits     INTEGER NOT NULL DEFAULT 0,
    bot_hits INTEGER NOT NULL DEFAULT 0,
    uniques  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, day, variant)
) WITHOUT ROWID;
