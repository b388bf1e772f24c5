-- Call sums for reports and stats (Store.call_totals: a time range grouped by campaign, a UTM
-- tag, link, number, channel or day) read this index alone, never the table; it also serves
-- the calls log, newest first, in place of the index on `started` alone.
CREATE INDEX calls_report ON calls
    (started, campaign, utm_source, utm_medium, utm_campaign, utm_content, link_id, number_id,
     channel, answered, conversion_id, duration_s);
DROP INDEX calls_started;
