use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::model::{AuditEvent, StoreError, ThrottleState};
use crate::usecases::LoginThrottlePolicy;

/// Port: per-account login throttling, shared by every node through the database.
///
/// Keyed by canonical email, for unknown emails too: throttling only existing accounts would
/// tell an attacker which emails are registered.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait LoginThrottle: Send + Sync {
    /// The recorded failures for this email, if any.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn state(&self, canonical_email: &str) -> Result<Option<ThrottleState>, StoreError>;

    /// Counts one more failure at `at` and, if the policy says so, locks logins for the
    /// email; atomic, so parallel failures are all counted, and recorded with `audit`.
    /// Returns the new state.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn record_failure(
        &self,
        canonical_email: &str,
        at: DateTime<Utc>,
        policy: &LoginThrottlePolicy,
        audit: &AuditEvent,
    ) -> Result<ThrottleState, StoreError>;

    /// Forgets the failures of this email (after a successful login).
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn clear(&self, canonical_email: &str) -> Result<(), StoreError>;

    /// Deletes records whose last failure is older than `before` (choose it well past the
    /// longest lock), at most `limit` per call. Returns how many went.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn forget_stale(&self, before: DateTime<Utc>, limit: i64) -> Result<usize, StoreError>;
}
