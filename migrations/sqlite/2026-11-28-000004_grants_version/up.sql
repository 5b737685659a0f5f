-- A counter per grant holder, raised in the same transaction as every change to what the
-- holder may do: a grant added or removed, or the rules of a role it holds replaced. The
-- session and API-key lookups read it on every request, so a node may keep the holder's
-- decoded grants in memory and reuse them while the counter is unchanged: a revocation is
-- seen by the very next request on every node.

ALTER TABLE accounts ADD COLUMN grants_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN grants_version BIGINT NOT NULL DEFAULT 0;
