//! API tests through the real HTTP stack: each test spawns the application on port 0 with its
//! own database (SQLite file, or a fresh PostgreSQL database when ROSTER_TEST_POSTGRES_URL is
//! set) and its own features file.

mod helpers;

mod admin_accounts;
mod api_keys;
mod audit;
mod authz;
mod bootstrap;
mod console;
mod console_mfa;
mod conventions;
mod features;
mod grants;
mod hardening;
mod hostile_input;
mod introspect;
mod invitations;
mod login;
mod login_throttle;
mod mail;
mod metrics;
mod mfa;
mod openapi;
mod passkeys;
mod password_strength;
mod privilege;
mod production_hashing;
mod rate_limit;
mod register;
mod registration_policy;
mod reliability;
mod roles;
mod secrets;
mod sessions;
mod storage;
mod verify_email;
