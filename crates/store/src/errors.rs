//! Driver errors to port errors, at the seam.

use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};
use roster_app::model::{Conflict, StoreError};

/// Translates a diesel error. A unique violation says which rule it broke by the violated
/// constraint, not by the call that happened to write: a transaction writing an account and
/// its grants can break either.
pub(crate) fn translate(error: DieselError) -> StoreError {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            match conflict_of(info.as_ref()) {
                Some(conflict) => StoreError::Duplicate(conflict),
                None => {
                    StoreError::Internal(format!("unexpected unique violation: {}", info.message()))
                }
            }
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

/// The uniqueness rules of the schema, each as PostgreSQL names its constraint and as SQLite
/// lists its columns (`UNIQUE constraint failed: <columns>`). Keep in step with the unique
/// indexes and primary keys in `migrations/`; other unique keys (UUID v7 ids of accounts,
/// sessions, grants and audit events) cannot collide short of a bug, so they are `Internal`.
const CONFLICTS: [(&str, &str, Conflict); 8] = [
    (
        "accounts_email_canonical_key",
        "accounts.email_canonical",
        Conflict::Email,
    ),
    (
        "account_grants_account_role_scope_key",
        "account_grants.account_id, account_grants.role_name, account_grants.scope",
        Conflict::Grant,
    ),
    (
        "api_key_grants_key_role_scope_key",
        "api_key_grants.api_key_id, api_key_grants.role_name, api_key_grants.scope",
        Conflict::Grant,
    ),
    ("roles_pkey", "roles.name", Conflict::Role),
    ("api_keys_pkey", "api_keys.id", Conflict::ApiKeyId),
    (
        "sessions_token_digest_key",
        "sessions.token_digest",
        Conflict::SessionDigest,
    ),
    (
        "invitations_pending_key",
        "invitations.pending_key",
        Conflict::InvitationPending,
    ),
    (
        "passkeys_credential_id_key",
        "passkeys.credential_id",
        Conflict::PasskeyCredential,
    ),
];

/// Which rule a unique violation broke: PostgreSQL names the constraint, SQLite only says it
/// in the message.
fn conflict_of(info: &(dyn DatabaseErrorInformation + Send + Sync)) -> Option<Conflict> {
    let sqlite_columns = info.message().strip_prefix("UNIQUE constraint failed: ");
    CONFLICTS
        .iter()
        .find(|(constraint, columns, _)| {
            info.constraint_name() == Some(*constraint) || sqlite_columns == Some(*columns)
        })
        .map(|(_, _, conflict)| *conflict)
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
    pub(crate) fn into_store(self) -> StoreError {
        match self {
            TxError::Diesel(error) => translate(error),
            TxError::Store(error) => error,
        }
    }
}
