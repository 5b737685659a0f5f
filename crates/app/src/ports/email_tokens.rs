use async_trait::async_trait;
use chrono::{DateTime, Utc};
use roster_domain::{Account, AccountId};

use crate::model::{AuditEvent, PasswordHash, SealedMail, StoreError, TokenDigest};

/// Port: single-use tokens sent by email, stored as digests, each written in the same
/// transaction as the message that carries it (the outbox row).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait EmailTokenStore: Send + Sync {
    /// Stores a password-reset token for the account and queues its message, in one
    /// transaction, unless `max_per_hour` reset tokens were already issued to the account in
    /// the hour before `now` (then nothing is written). Returns whether it was written.
    ///
    /// # Errors
    /// `Duplicate(TokenDigest)` on a digest collision; `Unavailable`.
    async fn request_password_reset(
        &self,
        account: AccountId,
        digest: &TokenDigest,
        expires_at: DateTime<Utc>,
        mail: &SealedMail,
        max_per_hour: u32,
    ) -> Result<bool, StoreError>;

    /// The active account a usable (unused, unexpired at `now`) password-reset token belongs to.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn find_password_reset(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError>;

    /// In one transaction, if the token is still usable at `at` for `account` (checked again
    /// under the write lock, so two confirmations cannot both pass): sets the new hash, marks
    /// every unused password-reset token of the account used, revokes every session, clears
    /// the login throttle of the account's email and records `audit`. `false` (and nothing
    /// written) when the token is no longer usable.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn reset_password(
        &self,
        digest: &TokenDigest,
        account: AccountId,
        password_hash: &PasswordHash,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
}
