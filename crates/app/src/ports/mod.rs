//! Port traits: what the use cases need from the outside world. Each is small, owned here,
//! and implemented by an adapter crate (`roster-store`, `roster-crypto`, `roster-flags`).
//! With the `mock` feature every port has a mockall double (`MockAccountRepository`, ...).

mod accounts;
mod api_keys;
mod audit_log;
mod clock;
mod grants;
mod hashing;
mod readiness;
mod roles;
mod sessions;
mod strength;
mod throttle;
mod tokens;

pub use accounts::{AccountPage, AccountRepository, StatusChange, StoredAccount};
pub use api_keys::{ApiKey, ApiKeyPage, ApiKeyStore, StoredApiKey};
pub use audit_log::{AuditLog, AuditPage, AuditQuery};
pub use clock::{Clock, SystemClock};
pub use grants::{GrantInsertion, GrantPage, GrantRecord, GrantStore, NewGrant};
pub use hashing::{HashError, PasswordHash, PasswordHasher};
pub use readiness::Readiness;
pub use roles::{CheckedRole, RoleDeletion, RoleHolding, RolePage, RoleStore, StoredRole};
pub use sessions::{NewSession, SessionId, SessionRecord, SessionStore, SessionSummary};
pub use strength::PasswordStrength;
pub use throttle::{LoginThrottle, ThrottleState};
pub use tokens::{IssuedToken, TokenDigest, TokenSource};

#[cfg(any(test, feature = "mock"))]
pub use accounts::MockAccountRepository;
#[cfg(any(test, feature = "mock"))]
pub use api_keys::MockApiKeyStore;
#[cfg(any(test, feature = "mock"))]
pub use audit_log::MockAuditLog;
#[cfg(any(test, feature = "mock"))]
pub use clock::MockClock;
#[cfg(any(test, feature = "mock"))]
pub use grants::MockGrantStore;
#[cfg(any(test, feature = "mock"))]
pub use hashing::MockPasswordHasher;
#[cfg(any(test, feature = "mock"))]
pub use readiness::MockReadiness;
#[cfg(any(test, feature = "mock"))]
pub use roles::MockRoleStore;
#[cfg(any(test, feature = "mock"))]
pub use sessions::MockSessionStore;
#[cfg(any(test, feature = "mock"))]
pub use strength::MockPasswordStrength;
#[cfg(any(test, feature = "mock"))]
pub use throttle::MockLoginThrottle;
#[cfg(any(test, feature = "mock"))]
pub use tokens::MockTokenSource;

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
