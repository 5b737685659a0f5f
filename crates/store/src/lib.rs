//! Roster's storage adapter: diesel on SQLite (the embedded default) and PostgreSQL (for
//! production and scale-out), behind the `roster-app` port traits.
//!
//! Every call runs on tokio's blocking pool with a pooled connection; driver errors are
//! translated here (unique violation -> `Duplicate`, lost or refused connection ->
//! `Unavailable`) so nothing above this crate sees diesel.
//!
//! Single-row lookups by a unique key use `get_result`, never `first`: `first` appends
//! `LIMIT ?`, and SQLite (3.47 and later) re-prepares a statement whose `LIMIT` is a bound
//! parameter every time it is bound again, which made parsing the SQL the largest cost of an
//! authenticated request (see docs/performance.md).

mod accounts;
mod api_keys;
mod audit;
mod backup;
mod connection;
mod errors;
mod grants;
mod grants_cache;
mod invitations;
mod mail;
mod mfa;
mod passkeys;
mod roles;
mod rows;
mod schema;
mod second_factor;
mod sessions;
#[cfg(feature = "testing")]
pub mod testing;
mod throttle;

pub use backup::{BackupError, BackupReport};
pub use connection::{Backend, DatabaseSettings, DatabaseUrlError, StartupError, Store};
