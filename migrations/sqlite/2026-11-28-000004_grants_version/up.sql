-- A counter per grant holder, raised in the same transaction as every change to what the
-- holder may do: a grant added, changed or removed, or the rules of a role it holds replaced.
-- The session and API-key lookups read it on every request, so a node may keep the holder's
-- decoded grants in memory and reuse them while the counter is unchanged: a revocation is
-- seen by the very next request on every node. Triggers raise it, so every writer does:
-- this version of Roster, an older node during a rolling upgrade, or SQL typed by hand.

ALTER TABLE accounts ADD COLUMN grants_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN grants_version BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER account_grants_inserted AFTER INSERT ON account_grants
BEGIN
    UPDATE accounts SET grants_version = grants_version + 1 WHERE id = NEW.account_id;
END;
CREATE TRIGGER account_grants_updated AFTER UPDATE ON account_grants
BEGIN
    UPDATE accounts SET grants_version = grants_version + 1
    WHERE id IN (OLD.account_id, NEW.account_id);
END;
CREATE TRIGGER account_grants_deleted AFTER DELETE ON account_grants
BEGIN
    UPDATE accounts SET grants_version = grants_version + 1 WHERE id = OLD.account_id;
END;

CREATE TRIGGER api_key_grants_inserted AFTER INSERT ON api_key_grants
BEGIN
    UPDATE api_keys SET grants_version = grants_version + 1 WHERE id = NEW.api_key_id;
END;
CREATE TRIGGER api_key_grants_updated AFTER UPDATE ON api_key_grants
BEGIN
    UPDATE api_keys SET grants_version = grants_version + 1
    WHERE id IN (OLD.api_key_id, NEW.api_key_id);
END;
CREATE TRIGGER api_key_grants_deleted AFTER DELETE ON api_key_grants
BEGIN
    UPDATE api_keys SET grants_version = grants_version + 1 WHERE id = OLD.api_key_id;
END;

CREATE TRIGGER roles_rules_updated AFTER UPDATE OF permissions ON roles
BEGIN
    UPDATE accounts SET grants_version = grants_version + 1
    WHERE id IN (SELECT account_id FROM account_grants WHERE role_name = NEW.name);
    UPDATE api_keys SET grants_version = grants_version + 1
    WHERE id IN (SELECT api_key_id FROM api_key_grants WHERE role_name = NEW.name);
END;
