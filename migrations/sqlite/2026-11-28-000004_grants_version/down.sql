DROP TRIGGER roles_rules_updated;
DROP TRIGGER api_key_grants_deleted;
DROP TRIGGER api_key_grants_updated;
DROP TRIGGER api_key_grants_inserted;
DROP TRIGGER account_grants_deleted;
DROP TRIGGER account_grants_updated;
DROP TRIGGER account_grants_inserted;
ALTER TABLE api_keys DROP COLUMN grants_version;
ALTER TABLE accounts DROP COLUMN grants_version;
