//! API tests through the real HTTP stack: each test spawns the application on port 0 with its
//! own database (SQLite file, or a fresh PostgreSQL database when ROSTER_TEST_POSTGRES_URL is
//! set) and its own features file.

mod helpers;

mod admin_accounts;
mod api_keys;
mod bootstrap;
mod features;
mod login;
mod login_throttle;
mod production_hashing;
mod rate_limit;
mod register;
mod secrets;
mod sessions;
mod storage;
