-- API keys (stored as a digest, found by the id embedded in the key), their grants, and
-- per-email login throttling shared by every node.

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    key_digest   TEXT NOT NULL,               -- SHA-256 of the whole key; the key is never stored
    created_at   TIMESTAMP NOT NULL,
    created_by   TEXT,                        -- `account:<id>` or `api_key:<id>`
    expires_at   TIMESTAMP,                   -- NULL: never expires
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);

CREATE TABLE api_key_grants (
    id         TEXT PRIMARY KEY NOT NULL,
    api_key_id TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    role_name  TEXT NOT NULL REFERENCES roles (name),
    scope      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT
);
CREATE UNIQUE INDEX api_key_grants_key_role_scope_key ON api_key_grants (api_key_id, role_name, scope);
CREATE INDEX api_key_grants_role_name_idx ON api_key_grants (role_name);

CREATE TABLE login_throttle (
    email_canonical TEXT PRIMARY KEY NOT NULL, -- unknown emails too: no enumeration by 429
    failures        INTEGER NOT NULL,
    last_failure_at TIMESTAMP NOT NULL,
    locked_until    TIMESTAMP
);
CREATE INDEX login_throttle_last_failure_at_idx ON login_throttle (last_failure_at);
