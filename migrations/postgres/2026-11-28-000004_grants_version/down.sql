DROP TRIGGER roles_rules_changed ON roles;
DROP TRIGGER api_key_grants_changed ON api_key_grants;
DROP TRIGGER account_grants_changed ON account_grants;
DROP FUNCTION roster_role_rules_changed();
DROP FUNCTION roster_api_key_grants_changed();
DROP FUNCTION roster_account_grants_changed();
ALTER TABLE api_keys DROP COLUMN grants_version;
ALTER TABLE accounts DROP COLUMN grants_version;
