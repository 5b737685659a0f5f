-- Disabling an account revokes the API keys it created, and revoking a key revokes the keys
-- it created, transitively: each generation is one lookup by `created_by`
-- (`account:<id>` / `api_key:<id>`).
CREATE INDEX api_keys_created_by_idx ON api_keys (created_by);
