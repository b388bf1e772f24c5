-- Users with roles (ADR 0033). Every user so far was an admin of the whole install: each
-- becomes an owner, so nothing changes for them. disabled_at marks a user who may no longer
-- sign in (their sessions end and their keys stop working). A user's own API keys name the
-- user; the install's keys (made with the CLI) keep NULL. An invitation is a one-time link
-- whose token is stored only as its SHA-256.

ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'viewer';
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
UPDATE users SET role = 'owner';

ALTER TABLE api_keys ADD COLUMN user_id INTEGER;
CREATE INDEX api_keys_user ON api_keys (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE invitations (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    role       TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    used_by    TEXT
);
