-- A counter per grant holder, raised in the same transaction as every change to what the
-- holder may do: a grant added, changed or removed, or the rules of a role it holds replaced.
-- The session and API-key lookups read it on every request, so a node may keep the holder's
-- decoded grants in memory and reuse them while the counter is unchanged: a revocation is
-- seen by the very next request on every node. Triggers raise it, so every writer does:
-- this version of Roster, an older node during a rolling upgrade, or SQL typed by hand.

ALTER TABLE accounts ADD COLUMN grants_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN grants_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION roster_account_grants_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE accounts SET grants_version = grants_version + 1 WHERE id = OLD.account_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE accounts SET grants_version = grants_version + 1 WHERE id = NEW.account_id;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION roster_api_key_grants_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE api_keys SET grants_version = grants_version + 1 WHERE id = OLD.api_key_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE api_keys SET grants_version = grants_version + 1 WHERE id = NEW.api_key_id;
    END IF;
    RETURN NULL;
END $$;

-- The holders are locked in id order before they are updated (as every other statement
-- locking many accounts does), so two role updates sharing holders cannot deadlock.
CREATE FUNCTION roster_role_rules_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM accounts
    WHERE id IN (SELECT account_id FROM account_grants WHERE role_name = NEW.name)
    ORDER BY id FOR NO KEY UPDATE;
    UPDATE accounts SET grants_version = grants_version + 1
    WHERE id IN (SELECT account_id FROM account_grants WHERE role_name = NEW.name);
    PERFORM 1 FROM api_keys
    WHERE id IN (SELECT api_key_id FROM api_key_grants WHERE role_name = NEW.name)
    ORDER BY id FOR NO KEY UPDATE;
    UPDATE api_keys SET grants_version = grants_version + 1
    WHERE id IN (SELECT api_key_id FROM api_key_grants WHERE role_name = NEW.name);
    RETURN NULL;
END $$;

CREATE TRIGGER account_grants_changed AFTER INSERT OR UPDATE OR DELETE ON account_grants
    FOR EACH ROW EXECUTE FUNCTION roster_account_grants_changed();
CREATE TRIGGER api_key_grants_changed AFTER INSERT OR UPDATE OR DELETE ON api_key_grants
    FOR EACH ROW EXECUTE FUNCTION roster_api_key_grants_changed();
CREATE TRIGGER roles_rules_changed AFTER UPDATE OF permissions ON roles
    FOR EACH ROW EXECUTE FUNCTION roster_role_rules_changed();
