-- Dashboard sessions kept on the server: the cookie carries a random session id, this table
-- its SHA-256 (hex), so a copy of the database opens no session. Deleting a row ends the
-- session at once (logout, password change, "sign out everywhere").
CREATE TABLE sessions (
    id         TEXT    PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
