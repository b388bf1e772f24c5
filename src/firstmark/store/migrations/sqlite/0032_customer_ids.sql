-- Customers (docs/customers.md): the SHA-256 of the customer id a backend sends with a
-- conversion, kept under analytics consent like the visitor id, so conversions of one
-- customer on several devices count as one customer.

ALTER TABLE conversions ADD COLUMN customer_hash TEXT;
