//! How a storage port fails.

/// Failures of a storage port, translated from driver errors at the adapter seam.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness constraint refused the write; the payload names what was duplicated.
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    /// A row the write refers to does not exist; the payload names it (`role`, `holder`).
    #[error("missing {0}")]
    Missing(&'static str),
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
