-- Invitations: an administrator invites an email address, optionally with grants; the
-- invitee follows the emailed link (`rin_` token, stored here only as its SHA-256 digest)
-- and sets a password, which creates the account with exactly those grants.
--
-- Status is derived: accepted_at set -> accepted; revoked_at set -> revoked; else pending
-- until expires_at, expired after. `pending_key` holds email_canonical while the
-- invitation is open (neither accepted nor revoked) and NULL otherwise; its unique index is
-- what makes "one open invitation per email" hold under concurrent requests on both
-- backends. An expired invitation's key is cleared by the next invitation for the address.
CREATE TABLE invitations (
    id              TEXT PRIMARY KEY NOT NULL,
    email           TEXT NOT NULL,            -- as the inviter typed it (trimmed)
    email_canonical TEXT NOT NULL,
    name            TEXT,
    token_digest    TEXT NOT NULL,            -- SHA-256 of the current link's token
    pending_key     TEXT,
    created_at      TIMESTAMP NOT NULL,
    created_by      TEXT,                     -- account:<id> or api_key:<id>
    expires_at      TIMESTAMP NOT NULL,
    accepted_at     TIMESTAMP,
    account_id      TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    revoked_at      TIMESTAMP
);
CREATE UNIQUE INDEX invitations_token_digest_key ON invitations (token_digest);
CREATE UNIQUE INDEX invitations_pending_key ON invitations (pending_key);
CREATE INDEX invitations_email_canonical_idx ON invitations (email_canonical);

-- The grants an invitation gives, created for the account on acceptance. A role held here
-- by an open invitation counts as in use (it cannot be deleted); the rows of closed
-- invitations go with their role.
CREATE TABLE invitation_grants (
    id            TEXT PRIMARY KEY NOT NULL,
    invitation_id TEXT NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    role_name     TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    scope         TEXT NOT NULL
);
CREATE INDEX invitation_grants_invitation_idx ON invitation_grants (invitation_id);
CREATE INDEX invitation_grants_role_name_idx ON invitation_grants (role_name);
