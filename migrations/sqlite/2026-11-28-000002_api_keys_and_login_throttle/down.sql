DROP TABLE login_throttle;
DROP TABLE api_key_grants;
DROP TABLE api_keys;
