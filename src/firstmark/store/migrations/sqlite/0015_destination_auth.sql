-- Whether a destination's credentials still work. `needs_reauth`: the platform refused the
-- grant (a revoked or expired refresh token, a deleted key, a 401 with a fresh token); its
-- outbox rows are not claimed until someone connects it again. `auth_error` keeps the
-- platform's words (never a credential).
ALTER TABLE destinations ADD COLUMN auth_status TEXT NOT NULL DEFAULT 'ok'
    CHECK (auth_status IN ('ok', 'needs_reauth'));
ALTER TABLE destinations ADD COLUMN auth_error TEXT;
