-- Accounts, sessions, roles and account grants. Ids are UUID text, times are UTC
-- TIMESTAMPs written from Rust (microsecond precision), identical on SQLite and PostgreSQL.

CREATE TABLE accounts (
    id              TEXT PRIMARY KEY NOT NULL,
    email           TEXT NOT NULL,            -- as the user typed it (trimmed)
    email_canonical TEXT NOT NULL,            -- lower-cased, IDN domain in ASCII: uniqueness
    name            TEXT,
    password_hash   TEXT NOT NULL,            -- argon2id PHC string
    status          TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    is_superadmin   BOOLEAN NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX accounts_email_canonical_key ON accounts (email_canonical);
CREATE INDEX accounts_superadmin_idx ON accounts (is_superadmin);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_digest TEXT NOT NULL,               -- SHA-256 of the token; the token is never stored
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP
);
CREATE UNIQUE INDEX sessions_token_digest_key ON sessions (token_digest);
CREATE INDEX sessions_account_id_idx ON sessions (account_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE roles (
    name        TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    permissions TEXT NOT NULL,                -- JSON array of {"action", "effect"}
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE account_grants (
    id         TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role_name  TEXT NOT NULL REFERENCES roles (name),
    scope      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT
);
CREATE UNIQUE INDEX account_grants_account_role_scope_key ON account_grants (account_id, role_name, scope);
CREATE INDEX account_grants_role_name_idx ON account_grants (role_name);
