-- The console's sessions (store/staff.py), kept by the server so that one can end for good: at
-- sign-out, when the member's token is reissued, when the member is deactivated, or when it
-- expires. A signed cookie alone cannot be taken back: a copy of it kept working for 14 days.
-- The cookie carries the session id; only its SHA-256 is kept. A session remembers the token
-- it was started with, so a session whose member's token has changed is over however that
-- happened.
CREATE TABLE console_sessions (
    session_hash text        PRIMARY KEY CHECK (session_hash ~ '^[0-9a-f]{64}$'),
    staff_id     text        NOT NULL REFERENCES staff (staff_id) ON DELETE CASCADE,
    token_hash   text        NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX console_sessions_staff ON console_sessions (staff_id);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
