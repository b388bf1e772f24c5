-- The forwarding audit: what each delivery attempt sent and what the platform said of it.
-- `api_version` the platform API version the request used; `consent` the consent state that
-- allowed the event (the event's own, e.g. "ad_user_data,ad_storage"); `identifiers` the
-- names of the identifiers present (",em,fbc,client_ip," — names only, never values);
-- `request_id` the platform's own id for the request (a trace id, Google's requestId);
-- `diagnostics` what the platform reported later of its processing (Google's requestStatus).
ALTER TABLE deliveries ADD COLUMN api_version TEXT;
ALTER TABLE deliveries ADD COLUMN consent TEXT;
ALTER TABLE deliveries ADD COLUMN identifiers TEXT;
ALTER TABLE deliveries ADD COLUMN request_id TEXT;
ALTER TABLE deliveries ADD COLUMN diagnostics TEXT;
CREATE INDEX deliveries_ts ON deliveries (ts);
CREATE INDEX deliveries_request ON deliveries (request_id) WHERE request_id IS NOT NULL;
