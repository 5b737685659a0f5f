DROP TABLE account_grants;
DROP TABLE roles;
DROP TABLE sessions;
DROP TABLE accounts;
