-- How a conversion imported from a CRM happened, for the platforms that take an offline
-- action source (Meta `system_generated` or `physical_store`); NULL for conversions from the
-- site, a backend or a call, whose action source follows from `source`.
ALTER TABLE conversions ADD COLUMN action_source TEXT;

-- What a CRM deal is matched on: hashed e-mail and phone on conversions (held only under ads
-- consent) and ad click ids on touches. Expression indexes, spelled as the store's queries
-- spell them (Dialect.json_text), over the rows that hold any such data.
CREATE INDEX conversions_em ON conversions ((user_data::jsonb ->> 'em')) WHERE user_data != '{}';
CREATE INDEX conversions_ph ON conversions ((user_data::jsonb ->> 'ph')) WHERE user_data != '{}';
CREATE INDEX touches_gclid ON touches ((click_ids::jsonb ->> 'gclid')) WHERE click_ids != '{}';
CREATE INDEX touches_fbclid ON touches ((click_ids::jsonb ->> 'fbclid')) WHERE click_ids != '{}';
-- An order id across goals (the unique key leads with the goal).
CREATE INDEX conversions_order_id ON conversions (order_id) WHERE order_id IS NOT NULL;
