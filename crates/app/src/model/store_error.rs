//! How a storage port fails.

use std::fmt;

/// Failures of a storage port, translated from driver errors at the adapter seam.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write; the payload says which one.
    #[error("duplicate {0}")]
    Duplicate(Conflict),
    /// A row the write refers to does not exist (or may no longer act); the payload says which.
    #[error("missing {0}")]
    Missing(Missing),
    /// A role's rules, or where it is held, changed since the write was checked against them
    /// (a role edit racing a grant of the role); the write was not made.
    #[error("the role changed since the request was checked")]
    RoleChanged,
    /// The database could not be reached or timed out; retrying later may succeed.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug, corrupt data, a constraint we did not expect.
    #[error("storage error: {0}")]
    Internal(String),
}

/// The uniqueness rules a write can break. Typed, so a use case matching the wrong one does
/// not compile (a misspelt string would have turned a 409 into a 500).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Conflict {
    /// An account with the same canonical email exists.
    Email,
    /// The holder holds this role on this scope already.
    Grant,
    /// A role with this name exists.
    Role,
    /// An API key with this id exists (a UUID v7 collision).
    ApiKeyId,
    /// A session with this token digest exists (a token collision).
    SessionDigest,
    /// An open invitation for the same canonical email exists.
    InvitationPending,
    /// The passkey's credential is registered already (to this or another account).
    PasskeyCredential,
    /// The account has a confirmed TOTP already.
    TotpEnrolled,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Conflict::Email => "email",
            Conflict::Grant => "grant",
            Conflict::Role => "role",
            Conflict::ApiKeyId => "api key id",
            Conflict::SessionDigest => "session token digest",
            Conflict::InvitationPending => "open invitation for the email",
            Conflict::PasskeyCredential => "passkey credential",
            Conflict::TotpEnrolled => "confirmed totp",
        })
    }
}

/// What a write referred to that is not there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Missing {
    /// A grant names a role that does not exist.
    Role,
    /// The account or API key to hold a grant does not exist.
    Holder,
    /// The creator of a new API key is gone, disabled, revoked or expired.
    Creator,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Missing::Role => "role",
            Missing::Holder => "holder",
            Missing::Creator => "creator",
        })
    }
}
