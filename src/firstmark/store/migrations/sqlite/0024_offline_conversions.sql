-- How a conversion imported from a CRM happened, for the platforms that take an offline
-- action source (Meta `system_generated` or `physical_store`); NULL for conversions from the
-- site, a backend or a call, whose action source follows from `source`.
ALTER TABLE conversions ADD COLUMN action_source TEXT;
