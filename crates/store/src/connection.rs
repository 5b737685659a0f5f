//! The database connection, in one module per job: [`url`] (which backend a URL names, and
//! libpq's URL with its timeout and TLS defaults), [`pool`] (connections, the pool and
//! [`Store`]), [`migrations`] (embedded migrations and readiness), [`transactions`] (write
//! transactions on either backend) and [`watchdog`] (the deadline of PostgreSQL calls).

mod migrations;
mod pool;
mod transactions;
mod url;
mod watchdog;

use std::path::PathBuf;

pub(crate) use pool::with_backend;
pub use pool::{DatabaseSettings, DbConnection, Store};
pub(crate) use transactions::write_transaction;
pub use url::{Backend, DatabaseUrlError};

/// Why the store could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot create the folder {path} for the SQLite database: {source}")]
    CreateFolder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot connect to the {backend} database: {cause}")]
    Connect {
        backend: &'static str,
        cause: String,
    },
    #[error("database migration failed: {0}")]
    Migrate(String),
}
