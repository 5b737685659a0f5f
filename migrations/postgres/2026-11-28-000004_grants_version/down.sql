ALTER TABLE api_keys DROP COLUMN grants_version;
ALTER TABLE accounts DROP COLUMN grants_version;
