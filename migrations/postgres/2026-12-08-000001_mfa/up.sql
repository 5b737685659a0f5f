-- Multi-factor sign-in: TOTP, recovery codes, passkeys, the second step of a login, and what
-- a session remembers of the factors it was opened or refreshed with.

-- Whether the account has a second factor (a confirmed TOTP or a passkey). Kept by the store
-- in the same transaction as every change to the factors, so that authenticating a session
-- (one joined query per request) knows it without looking further.
ALTER TABLE accounts ADD COLUMN has_second_factor BOOLEAN NOT NULL DEFAULT FALSE;

-- How the session was opened and refreshed, as a comma list of pwd, otp, recovery, passkey;
-- and when a second factor was last presented on it (the login's second step or a step-up).
-- Sessions opened before this migration were opened with a password.
ALTER TABLE sessions ADD COLUMN auth_methods TEXT NOT NULL DEFAULT 'pwd';
ALTER TABLE sessions ADD COLUMN second_factor_at TIMESTAMP;

-- One TOTP secret per account, sealed (XChaCha20-Poly1305 under the service's secret key,
-- bound to the account), never in clear. Pending until confirmed with a first code.
-- last_used_step is the RFC 6238 time step of the newest accepted code: a code of that step
-- or an older one is refused (replay).
CREATE TABLE mfa_totp (
    account_id     TEXT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sealed_secret  TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    confirmed_at   TIMESTAMP,
    last_used_step BIGINT
);

-- Single-use recovery codes, stored as the SHA-256 of the normalized code (80 random bits
-- each). A new set replaces the old one.
CREATE TABLE mfa_recovery_codes (
    code_digest TEXT PRIMARY KEY NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
CREATE INDEX mfa_recovery_codes_account_idx ON mfa_recovery_codes (account_id);

-- The second step of a login: the right password was given; the holder of the rmf_ token
-- (stored as its SHA-256) may finish with a second factor until expires_at, and at most
-- five wrong codes.
CREATE TABLE mfa_challenges (
    id           TEXT PRIMARY KEY NOT NULL,
    token_digest TEXT NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    failures     INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX mfa_challenges_token_digest_key ON mfa_challenges (token_digest);
CREATE INDEX mfa_challenges_expires_at_idx ON mfa_challenges (expires_at);

-- Passkeys (WebAuthn credentials). credential_id is the authenticator's id (base64url), unique
-- across accounts; credential is the relying-party library's serialized record (public key,
-- counter, backup state): public data, no secret.
CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY NOT NULL,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    credential    TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP
);
CREATE UNIQUE INDEX passkeys_credential_id_key ON passkeys (credential_id);
CREATE INDEX passkeys_account_idx ON passkeys (account_id);

-- A WebAuthn ceremony between its start and its finish (any node may serve either): found by
-- its challenge (base64url, 256 random bits, echoed in the browser's response), single use.
-- purpose: register, second_factor, step_up, passwordless. account_id is set for all but
-- passwordless; session_id for register and step_up; mfa_challenge_id for second_factor.
CREATE TABLE webauthn_ceremonies (
    challenge        TEXT PRIMARY KEY NOT NULL,
    purpose          TEXT NOT NULL,
    account_id       TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    session_id       TEXT,
    mfa_challenge_id TEXT,
    state            TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    expires_at       TIMESTAMP NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires_at_idx ON webauthn_ceremonies (expires_at);
