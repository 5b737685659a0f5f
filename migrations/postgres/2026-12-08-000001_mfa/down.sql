DROP TABLE webauthn_ceremonies;
DROP TABLE passkeys;
DROP TABLE mfa_challenges;
DROP TABLE mfa_recovery_codes;
DROP TABLE mfa_totp;
ALTER TABLE sessions DROP COLUMN second_factor_at;
ALTER TABLE sessions DROP COLUMN auth_methods;
ALTER TABLE accounts DROP COLUMN has_second_factor;
