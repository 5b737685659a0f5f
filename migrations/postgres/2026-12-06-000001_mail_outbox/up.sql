-- The transactional outbox: each message is written in the same transaction as the action
-- that causes it, sealed (rendered and encrypted with the secret key, so the database alone
-- yields no token), and delivered later by the sender job. A claim is a lease: claimed_by /
-- claimed_until; a message whose lease ran out is due again.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY NOT NULL, -- also the Message-ID: stable across retries
    kind            TEXT NOT NULL,             -- password_reset, invitation, ...
    recipient       TEXT NOT NULL,
    sealed          TEXT NOT NULL,             -- nonce + ciphertext, base64
    created_at      TIMESTAMP NOT NULL,
    attempts        INTEGER NOT NULL,          -- failed attempts so far
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_by      TEXT,
    claimed_until   TIMESTAMP,
    last_error      TEXT,                      -- never the body
    sent_at         TIMESTAMP,
    gave_up_at      TIMESTAMP
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at)
    WHERE sent_at IS NULL AND gave_up_at IS NULL;

-- Single-use tokens sent by email (password reset now; email verification and invitations
-- later), stored only as SHA-256 digests.
CREATE TABLE email_tokens (
    token_digest TEXT PRIMARY KEY NOT NULL,
    purpose      TEXT NOT NULL,                -- password_reset, email_verification, invitation
    account_id   TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    expires_at   TIMESTAMP NOT NULL,
    used_at      TIMESTAMP,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX email_tokens_account_purpose_idx ON email_tokens (account_id, purpose, created_at);
