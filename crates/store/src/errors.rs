//! Driver errors to port errors, at the seam.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use roster_app::model::StoreError;

/// Translates a diesel error; `duplicate` names what a unique violation means at this call.
pub(crate) fn translate(error: DieselError, duplicate: &'static str) -> StoreError {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            StoreError::Duplicate(duplicate)
        }
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
            StoreError::Unavailable(info.message().to_owned())
        }
        DieselError::DatabaseError(_, info) if is_unavailable(info.message()) => {
            StoreError::Unavailable(info.message().to_owned())
        }
        other => StoreError::Internal(other.to_string()),
    }
}

/// Messages of failures that retrying later can cure: a lost connection, a busy SQLite file,
/// a statement timeout.
fn is_unavailable(message: &str) -> bool {
    const TRANSIENT: [&str; 8] = [
        "database is locked",
        "database is busy",
        "server closed the connection",
        "connection",
        "terminating connection",
        "could not receive data",
        "canceling statement due to statement timeout",
        "the database system is",
    ];
    let message = message.to_ascii_lowercase();
    TRANSIENT.iter().any(|needle| message.contains(needle))
}

pub(crate) fn pool_unavailable(error: &r2d2::Error) -> StoreError {
    StoreError::Unavailable(format!("no database connection: {error}"))
}

pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("stored {what} is invalid: {detail}"))
}

/// Error type inside diesel transactions: diesel's own (so diesel can roll back on it) or a
/// port error decided by the work itself.
#[derive(Debug)]
pub(crate) enum TxError {
    Diesel(DieselError),
    Store(StoreError),
}

impl From<DieselError> for TxError {
    fn from(error: DieselError) -> Self {
        TxError::Diesel(error)
    }
}

impl From<StoreError> for TxError {
    fn from(error: StoreError) -> Self {
        TxError::Store(error)
    }
}

impl TxError {
    pub(crate) fn into_store(self, duplicate: &'static str) -> StoreError {
        match self {
            TxError::Diesel(error) => translate(error, duplicate),
            TxError::Store(error) => error,
        }
    }
}
