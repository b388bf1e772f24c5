-- The caller's number as ad platforms take it (SHA-256 of the normalised number, with and
-- without '+', as JSON {"ph": …, "ph_e164": …}), kept only when the visitor behind the call
-- consented to ads. It is what a qualified call's conversion carries, whichever of the
-- provider's webhooks named the caller: the one that qualifies a call usually does not.
ALTER TABLE calls ADD COLUMN caller_hashed TEXT;
